// The review page: the cue list beside the player; edits are checked as you type and saved as one revision.
"use strict";
(() => {
  const jobId = document.body.dataset.job;
  const video = document.getElementById("video");
  const list = document.getElementById("cue-list");
  const picker = document.getElementById("language");
  const saveButton = document.getElementById("save");
  const message = document.getElementById("message");
  const jobStatus = document.getElementById("job-status");
  if (!picker) return;
  const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const graphemes = (text) => [...segmenter.segment(text)].length;
  const unspaced = new Set(["ja", "zh", "th", "lo", "km", "my", "yue", "bo"]);
  let sheet = null;
  let cues = [];
  let selected = -1;
  let dirty = false;
  let edits = 0; // counts every change, so that a save or a reload never marks newer edits as saved
  let language = picker.value; // the language whose cues the list holds

  const say = (text, bad = false) => { message.textContent = text; message.style.color = bad ? "#fda29b" : ""; };
  const clock = (t) => {
    const ms = Math.round(t * 1000);
    const h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
    return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}.${String(ms % 1000).padStart(3, "0")}`;
  };
  const seconds = (text) => {
    if (!text.trim()) return NaN;
    const parts = text.trim().replace(",", ".").split(":").map(Number);
    if (parts.some((p) => Number.isNaN(p))) return NaN;
    return parts.reduce((total, part) => total * 60 + part, 0);
  };
  const linesOf = (cue) => cue.text.split("\n").map((l) => l.trim().replace(/\s+/g, " ")).filter(Boolean);

  function layoutProblems(index) {
    const rules = sheet.rules, cue = cues[index], lines = linesOf(cue), problems = [];
    const language = sheet.language.split("-")[0];
    const joined = lines.join(unspaced.has(language) ? "" : " ");
    const duration = cue.end - cue.start;
    const longest = Math.max(0, ...lines.filter((l) => unspaced.has(language) || l.split(" ").length > 1).map(graphemes));
    if (longest > rules.max_line_length) problems.push(`line of ${longest} characters (limit ${rules.max_line_length})`);
    if (lines.length > rules.max_lines) problems.push(`${lines.length} lines (limit ${rules.max_lines})`);
    if (!lines.length) problems.push("no text");
    if (duration < rules.min_duration - 0.0005) problems.push(`${duration.toFixed(2)} s on screen (at least ${rules.min_duration})`);
    if (duration > rules.max_duration) problems.push(`${duration.toFixed(2)} s on screen (at most ${rules.max_duration})`);
    const cps = duration > 0 ? graphemes(joined) / duration : Infinity;
    if (cps > rules.max_cps + 1e-9) problems.push(`${cps.toFixed(1)} characters per second (limit ${rules.max_cps})`);
    if (index > 0 && cue.start - cues[index - 1].end < rules.min_gap - 0.0005) problems.push(`gap ${(cue.start - cues[index - 1].end).toFixed(3)} s before it (at least ${rules.min_gap})`);
    if (index > 0 && cue.start < cues[index - 1].end) problems.push("overlaps the cue before");
    if (!(cue.end > cue.start)) problems.push("ends before it starts");
    return problems;
  }

  function flagLabels(cue) {
    return cue.flags.map((f) => {
      if (f.kind === "low_confidence") return ["confidence", "unsure: " + f.words.map((w) => `${w.text} (${Math.round(w.probability * 100)}%)`).join(", ")];
      if (f.kind === "glossary") return ["glossary", `glossary: ${f.found} → ${f.term}`];
      if (f.kind === "lyrics") return ["lyrics", "lyrics"];
      if (f.kind === "reviewed") return ["reviewed", "reviewed"];
      return [f.kind, f.kind];
    });
  }

  function refresh(index) {
    const item = list.querySelector(`li.cue[data-index="${index}"]`);
    if (!item) return;
    const problems = layoutProblems(index);
    const flags = item.querySelector(".flags");
    flags.textContent = "";
    for (const [kind, label] of flagLabels(cues[index])) {
      const badge = document.createElement("span");
      badge.className = `flag ${kind}`;
      badge.textContent = label;
      flags.append(badge);
    }
    for (const problem of problems) {
      const badge = document.createElement("span");
      badge.className = "flag layout";
      badge.textContent = problem;
      flags.append(badge);
    }
    item.classList.toggle("broken", problems.length > 0);
    item.classList.toggle("flagged", problems.length > 0 || cues[index].flags.some((f) => f.kind !== "reviewed"));
  }

  function render() {
    list.textContent = "";
    const dropped = sheet.dropped.map((d) => ({ dropped: d, start: d.start }));
    const rows = cues.map((cue, index) => ({ cue, index, start: cue.start })).concat(dropped).sort((a, b) => a.start - b.start);
    for (const row of rows) {
      if (row.dropped) { list.append(droppedItem(row.dropped)); continue; }
      list.append(cueItem(row.cue, row.index));
      refresh(row.index);
    }
    if (selected >= cues.length) selected = cues.length - 1;
    select(selected, false);
  }

  function changed() {
    dirty = true;
    edits += 1;
    saveButton.disabled = false;
  }

  function cueItem(cue, index) {
    const item = document.createElement("li");
    item.className = "cue";
    item.dataset.index = String(index);
    item.dataset.start = String(cue.start);
    const times = document.createElement("div");
    times.className = "times";
    const number = document.createElement("span");
    number.textContent = `#${index + 1}`;
    const start = document.createElement("input");
    start.className = "start";
    start.value = clock(cue.start);
    const end = document.createElement("input");
    end.className = "end";
    end.value = clock(cue.end);
    times.append(number, start, "→", end);
    const text = document.createElement("textarea");
    text.rows = Math.max(2, linesOf(cue).length);
    text.value = cue.text;
    const flags = document.createElement("div");
    flags.className = "flags";
    item.append(times, text, flags);
    const edited = () => { changed(); refresh(index); if (index + 1 < cues.length) refresh(index + 1); };
    text.addEventListener("input", () => { cue.text = text.value; edited(); });
    for (const [input, field] of [[start, "start"], [end, "end"]]) {
      input.addEventListener("input", () => {
        const value = seconds(input.value);
        input.classList.toggle("invalid", Number.isNaN(value));
        if (!Number.isNaN(value)) { cue[field] = value; edited(); }
      });
    }
    item.addEventListener("focusin", () => select(index, false));
    item.addEventListener("click", (event) => { if (event.target === item || event.target === flags || event.target === number || event.target.classList.contains("flag")) select(index, true); });
    return item;
  }

  function droppedItem(segment) {
    const item = document.createElement("li");
    item.className = "dropped" + (segment.restored ? " restored" : "");
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = `${clock(segment.start)} ${segment.text}`;
    const why = document.createElement("span");
    why.className = "flag";
    why.textContent = (segment.restored ? "restored; the filter said: " : "dropped: ") + segment.reason;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = segment.restored ? "drop again" : "restore";
    button.addEventListener("click", () => restore(segment.id, !segment.restored));
    item.append(text, " ", why, " ", button);
    return item;
  }

  function select(index, seek) {
    for (const item of list.querySelectorAll("li.cue.selected")) item.classList.remove("selected");
    selected = index;
    if (index < 0) return;
    const item = list.querySelector(`li.cue[data-index="${index}"]`);
    if (!item) return;
    item.classList.add("selected");
    if (seek && video) {
      video.currentTime = cues[index].start;
      item.scrollIntoView({ block: "nearest" });
    }
  }

  function jump(step) {
    const flagged = [...list.querySelectorAll("li.cue.flagged")].map((item) => Number(item.dataset.index));
    if (!flagged.length) return say("no flagged cue");
    const next = step > 0 ? flagged.find((i) => i > selected) ?? flagged[0] : [...flagged].reverse().find((i) => i < selected) ?? flagged[flagged.length - 1];
    select(next, true);
    list.querySelector(`li.cue[data-index="${next}"] textarea`).focus({ preventScroll: true });
  }

  function split() {
    if (selected < 0) return;
    const cue = cues[selected];
    const area = list.querySelector(`li.cue[data-index="${selected}"] textarea`);
    const at = area && document.activeElement === area ? area.selectionStart : Math.floor(cue.text.length / 2);
    const first = cue.text.slice(0, at).trim(), second = cue.text.slice(at).trim();
    if (!first || !second) return say("put the cursor between the words to split at");
    const middle = cue.start + (cue.end - cue.start) * (first.length / (first.length + second.length));
    const gap = sheet.rules.min_gap / 2;
    cues.splice(selected, 1, { ...cue, text: first, end: middle - gap, flags: [] }, { ...cue, text: second, start: middle + gap, flags: [] });
    changed();
    render();
  }

  function merge() {
    if (selected < 0 || selected + 1 >= cues.length) return say("no next cue to merge with");
    const cue = cues[selected], next = cues[selected + 1];
    cues.splice(selected, 2, { ...cue, end: next.end, text: `${cue.text}\n${next.text}`, flags: cue.flags.concat(next.flags) });
    changed();
    render();
  }

  async function answer(response) {
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = body.error || { message: `${response.status} ${response.statusText}` };
      say(error.message + (error.fix ? ` (fix: ${error.fix})` : ""), true);
      return null;
    }
    return body;
  }

  async function load() {
    const body = await answer(await fetch(`/api/jobs/${jobId}/cues/${picker.value}`));
    if (!body) { picker.value = language; return; }
    language = body.language;
    sheet = body;
    cues = body.cues.map((c) => ({ start: c.start, end: c.end, text: c.lines.join("\n"), lyrics: c.lyrics, flags: c.flags.filter((f) => f.kind !== "layout") }));
    dirty = false; edits = 0; saveButton.disabled = true;
    render();
  }

  async function save() {
    const body = { cues: cues.map((c) => ({ start: Math.round(c.start * 1000) / 1000, end: Math.round(c.end * 1000) / 1000, lines: linesOf(c), lyrics: c.lyrics })) };
    saveButton.disabled = true;
    say("saving…");
    const sent = edits;
    const result = await answer(await fetch(`/api/jobs/${jobId}/cues/${language}`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }));
    if (!result) { saveButton.disabled = false; return; }
    if (!result.revision) { say("nothing changed"); return; }
    dirty = edits !== sent;
    saveButton.disabled = !dirty;
    say(`saved ${result.changed.length} cue(s) as ${result.revision}; running from ${result.rerun_from}…`);
    follow(`saved ${result.changed.length} cue(s) as ${result.revision}`);
  }

  async function restore(segment, bringBack) {
    if (dirty && !confirm("The unsaved edits of this list will be lost when the job runs again. Go on?")) return;
    const result = await answer(await fetch(`/api/jobs/${jobId}/restore`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ segment, restore: bringBack }) }));
    if (result) { say("running again from the hallucination filter…"); follow(bringBack ? "segment restored" : "segment dropped again"); }
  }

  function follow(done) {
    const events = new EventSource(`/api/jobs/${jobId}/events`);
    events.addEventListener("stage", (e) => { const item = JSON.parse(e.data); jobStatus.textContent = `${item.stage}: ${item.state}`; });
    events.addEventListener("progress", (e) => { const item = JSON.parse(e.data); jobStatus.textContent = `${item.task}: ${item.percent}%`; });
    // A warning of this run (a review that no longer fits its cues, say) is shown when it ends.
    const warnings = [];
    events.addEventListener("run", (e) => { if (JSON.parse(e.data).state === "started") warnings.length = 0; });
    events.addEventListener("log", (e) => { const item = JSON.parse(e.data); if (item.level === "warning") warnings.push(item.message); });
    events.addEventListener("end", async (e) => {
      events.close();
      const job = JSON.parse(e.data);
      jobStatus.textContent = job.status;
      if (job.status !== "success") { say(`the run ${job.status}: ${(job.last_run || {}).error || "see the job's log"}`, true); return; }
      reloadTracks();
      if (dirty) { say(`${done}; the job's files are up to date (your newer edits are not saved yet)`); return; }
      await load();
      say(`${done}; the job's files are up to date` + (warnings.length ? `; warning: ${warnings.join("; ")}` : ""), warnings.length > 0);
    });
  }

  function reloadTracks() {
    if (!video) return;
    for (const track of [...video.querySelectorAll("track")]) {
      const fresh = track.cloneNode();
      fresh.src = `/api/jobs/${jobId}/tracks/${track.srclang}.vtt?t=${Date.now()}`;
      track.replaceWith(fresh);
    }
  }

  if (video) {
    video.addEventListener("timeupdate", () => {
      const t = video.currentTime;
      for (const item of list.querySelectorAll("li.cue")) {
        const cue = cues[Number(item.dataset.index)];
        item.classList.toggle("current", cue.start <= t && t < cue.end);
      }
    });
  }
  document.addEventListener("keydown", (event) => {
    const typing = ["TEXTAREA", "INPUT", "SELECT"].includes(document.activeElement.tagName);
    if (video && ((event.ctrlKey && event.code === "Space") || (!typing && event.code === "Space"))) {
      event.preventDefault();
      if (video.paused) video.play(); else video.pause();
    } else if (event.altKey && event.key === "ArrowDown") { event.preventDefault(); jump(1); }
    else if (event.altKey && event.key === "ArrowUp") { event.preventDefault(); jump(-1); }
    else if (event.altKey && event.code === "KeyS") { event.preventDefault(); split(); }
    else if (event.altKey && event.code === "KeyM") { event.preventDefault(); merge(); }
    else if ((event.ctrlKey || event.metaKey) && event.code === "KeyS") { event.preventDefault(); if (dirty) save(); }
  });
  window.addEventListener("beforeunload", (event) => { if (dirty) event.preventDefault(); });
  picker.addEventListener("change", () => {
    if (!dirty || confirm("Leave this language without saving?")) load();
    else picker.value = language;
  });
  saveButton.addEventListener("click", save);
  load();
})();
