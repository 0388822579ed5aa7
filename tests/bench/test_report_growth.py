"""bench/report.py judges the growth target from the side-by-side figures of bench/growth.sh
when they are there, and from two separate runs otherwise."""

import json

from bench import report


def endpoint(p50: float, rps: float = 10.0) -> dict:
    return {"seq": {"p50_ms": p50, "p95_ms": p50, "n": 200, "errors": 0}, "conc": {"rps": rps, "errors": 0}}


def write(path, data):
    path.write_text(json.dumps(data))


def raw_dirs(tmp_path, *, large: dict, small_run: dict):
    raw = tmp_path / "raw"
    (raw / "100k").mkdir(parents=True)
    (raw / "10k").mkdir()
    write(raw / "100k" / "http.json", {"endpoints": {name: endpoint(p50) for name, p50 in large.items()}})
    write(raw / "10k" / "http.json", {"endpoints": {name: endpoint(p50) for name, p50 in small_run.items()}})
    return raw


def target_line(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {start}"))


def test_growth_between_two_runs_when_nothing_was_measured_side_by_side(tmp_path):
    raw = raw_dirs(tmp_path, large={"dashboard": 21.2, "complaint_list": 50.0}, small_run={"dashboard": 16.3, "complaint_list": 55.0})
    text = report.build("100k", str(raw / "100k"), str(tmp_path / "no-peer"))
    line = target_line(text, "cost at 100k within 1.3x of 10k")
    assert "**missed**" in line and "dashboard x1.30" in line and "complaint_list x0.91" in line
    assert "measured side by side" not in text


def test_side_by_side_figures_decide_and_the_two_runs_are_shown_beside_them(tmp_path):
    raw = raw_dirs(tmp_path, large={"dashboard": 21.2}, small_run={"dashboard": 16.3})
    write(raw / "100k" / "growth_10k.json", {"endpoints": {"dashboard": endpoint(19.5, 99.2), "training_matrix": endpoint(287.2, 6.3)}})
    write(raw / "100k" / "growth_100k.json", {"endpoints": {"dashboard": endpoint(21.1, 102.0), "training_matrix": endpoint(400.0, 5.0)}})
    text = report.build("100k", str(raw / "100k"), str(tmp_path / "no-peer"))
    line = target_line(text, "cost at 100k within 1.3x of 10k (p50, both measured side by side")
    assert "**missed**" in line  # the matrix grew x1.39 side by side
    assert "dashboard x1.08" in line and "training_matrix x1.39" in line
    assert "dashboard x1.30" in target_line(text, "for comparison: the same ratio between the two separate")
    assert "| dashboard | 19.5 / 21.1 | x1.08 | 99.2 / 102.0 |" in text
