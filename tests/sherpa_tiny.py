"""Builds the two tiny ONNX models sherpa-onnx's speaker diarization loads, shaped like the real ones.

The segmentation model has the interface of pyannote's segmentation-3.0 export: a window of raw
samples (1, 1, window) in, per-frame log-probabilities of the 7 powerset classes (silence, 3
speakers alone, 3 pairs) out, with the metadata sherpa-onnx reads. The weights are set by hand, not
trained: band energies from a Hann-windowed sine/cosine filter bank, smoothed over time; a loud
frame is "speaker 1 of the window", a quiet one silence. The embedding model has the interface of a
WeSpeaker export: 80 log-mel filter bank frames (1, frames, 80) in, one vector out; it averages the
frames' spectral shape (each frame less its mean over the bins) and projects it on DCT rows, a mean
cepstrum, which tells two voices apart well enough to cluster. The point is the real loading and
diarization path, not accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 3 * SAMPLE_RATE        # samples per segmentation window
FRAME_SHIFT = 320               # the receptive field's shift: 20 ms frames
FRAME_SIZE = 640                # the receptive field: 40 ms
BANDS_HZ = (200.0, 400.0, 800.0, 1600.0, 3200.0)
SMOOTHING_FRAMES = 15           # 0.3 s of band energy averaged, so a turn does not flicker
# Mean log band energy above which a frame is speech: a -50 dBFS sine seen through the filters.
SPEECH_LEVEL = float(np.log((FRAME_SIZE / 4 * 10 ** (-50 / 20)) ** 2))
POWERSET_CLASSES = 7            # 3 speakers, at most 2 at once
EMBEDDING_DIM = 16
MEL_BINS = 80
LOUDNESS_WEIGHT = 0.3       # per unit of a frame's mean log-mel energy, in the embedding's frame weights
OPSET = 17


def build_tiny_sherpa_models(folder: Path) -> tuple[Path, Path]:
    """Write segmentation.onnx and embedding.onnx into `folder`; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    segmentation, embedding = folder / "segmentation.onnx", folder / "embedding.onnx"
    _save(_segmentation_graph(), segmentation, {
        "model_type": "pyannote-segmentation-3.0", "num_speakers": 3, "powerset_max_classes": 2,
        "num_classes": POWERSET_CLASSES, "sample_rate": SAMPLE_RATE, "window_size": WINDOW,
        "receptive_field_size": FRAME_SIZE, "receptive_field_shift": FRAME_SHIFT})
    _save(_embedding_graph(), embedding, {
        "framework": "wespeaker", "sample_rate": SAMPLE_RATE, "output_dim": EMBEDDING_DIM,
        "normalize_samples": 0, "language": "English"})
    return segmentation, embedding


def _save(graph: object, path: Path, metadata: dict[str, object]) -> None:
    import onnx
    from onnx import helper

    # IR version 8 (onnxruntime 1.10 and later) rather than the newest the onnx package writes.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="cp-whisperx tests", ir_version=8)
    helper.set_model_props(model, {key: str(value) for key, value in metadata.items()})
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def _segmentation_graph() -> object:
    from onnx import TensorProto, helper, numpy_helper

    t = np.arange(FRAME_SIZE) / SAMPLE_RATE
    hann = np.hanning(FRAME_SIZE)
    filters = np.concatenate([[hann * np.cos(2 * np.pi * f * t), hann * np.sin(2 * np.pi * f * t)] for f in BANDS_HZ])
    bands = len(BANDS_HZ)
    pair_sum = np.zeros((bands, 2 * bands, 1))
    for band in range(bands):
        pair_sum[band, 2 * band:2 * band + 2, 0] = 1.0
    # Class 0 (silence) scores 0; class 1 (speaker 1 alone) scores the mean log energy above the
    # speech level; the other speakers and the pairs are never chosen.
    scores = np.zeros((POWERSET_CLASSES, bands, 1))
    scores[1, :, 0] = 1.0 / bands
    bias = np.full(POWERSET_CLASSES, -1e4)
    bias[0], bias[1] = 0.0, -SPEECH_LEVEL
    weights = {
        "filters": filters[:, None, :], "pair_sum": pair_sum, "scores": scores, "bias": bias,
        "floor": np.array(1e-6),
    }
    initializers = [numpy_helper.from_array(np.asarray(v, np.float32), name) for name, v in weights.items()]
    half = SMOOTHING_FRAMES // 2
    nodes = [
        helper.make_node("Conv", ["x", "filters"], ["responses"], strides=[FRAME_SHIFT]),
        helper.make_node("Mul", ["responses", "responses"], ["squares"]),
        helper.make_node("Conv", ["squares", "pair_sum"], ["band_power"]),
        helper.make_node("AveragePool", ["band_power"], ["smoothed"], kernel_shape=[SMOOTHING_FRAMES],
                         pads=[half, half], count_include_pad=0),
        helper.make_node("Add", ["smoothed", "floor"], ["floored"]),
        helper.make_node("Log", ["floored"], ["log_power"]),
        helper.make_node("Conv", ["log_power", "scores", "bias"], ["logits"]),
        helper.make_node("Transpose", ["logits"], ["frame_logits"], perm=[0, 2, 1]),
        helper.make_node("LogSoftmax", ["frame_logits"], ["y"], axis=-1),
    ]
    frames = (WINDOW - FRAME_SIZE) // FRAME_SHIFT + 1
    return helper.make_graph(
        nodes, "tiny-segmentation",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, WINDOW])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", frames, POWERSET_CLASSES])],
        initializers)


def _embedding_graph() -> object:
    from onnx import TensorProto, helper, numpy_helper

    bins = np.arange(MEL_BINS)
    dct = np.array([np.cos(np.pi * k * (bins + 0.5) / MEL_BINS) for k in range(1, EMBEDDING_DIM + 1)]).T
    weights = {"dct": dct, "loudness_weight": np.array(LOUDNESS_WEIGHT), "time_axis": np.array([1])}
    initializers = [numpy_helper.from_array(np.asarray(v, np.int64 if name == "time_axis" else np.float32), name)
                    for name, v in weights.items()]
    nodes = [
        helper.make_node("ReduceMean", ["feats"], ["frame_mean"], axes=[2], keepdims=1),
        helper.make_node("Sub", ["feats", "frame_mean"], ["shape"]),
        # loud frames (the voice) count more than the pauses between words
        helper.make_node("Mul", ["frame_mean", "loudness_weight"], ["loudness"]),
        helper.make_node("Softmax", ["loudness"], ["frame_weights"], axis=1),
        helper.make_node("Mul", ["shape", "frame_weights"], ["weighted"]),
        helper.make_node("ReduceSum", ["weighted", "time_axis"], ["mean_shape"], keepdims=0),
        helper.make_node("MatMul", ["mean_shape", "dct"], ["embs"]),
    ]
    return helper.make_graph(
        nodes, "tiny-embedding",
        [helper.make_tensor_value_info("feats", TensorProto.FLOAT, ["N", "T", MEL_BINS])],
        [helper.make_tensor_value_info("embs", TensorProto.FLOAT, ["N", EMBEDDING_DIM])],
        initializers)
