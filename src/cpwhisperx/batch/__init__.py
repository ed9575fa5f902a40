"""A catalogue of films: one job per film, run by workers that each keep their model between films.

`cpwx batch` gathers the films (`films`), records them in `batch.json` (`record`), and hands their
jobs to an engine: worker processes on this machine (`local`). Any engine runs a film the same way
(`worker`), so a film's job is the one `cpwx run` would make and resume.
"""
