"""Write bench/results/<date>-<scale>.md from the raw JSON of one run (bench/results/raw/<scale>/).

    python -m bench.report --scale 100k --raw bench/results/raw/100k --out-dir bench/results

Targets (issue 9 item 4) are marked met / missed; growth 10k -> 100k is computed when the other
scale's raw results are present beside this one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys

from bench.endpoints import PEER_PAIRS

# The pages whose cost must hold as the data grows (issue 19 item 3), measured by bench/growth.sh.
GROWTH_PAGES = (
    "complaint_list", "complaint_detail", "dashboard", "dashboard_recompute", "audit_trail", "audit_trail_search",
    "training_matrix", "my_work", "kpi_api_90d", "kpi_api_2y",
)
# The scale each is compared with.
SMALLER = {"100k": "10k", "1m": "100k"}
QUERY_LIMIT = 12


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _growth(small: dict, large: dict) -> dict:
    """p50 at the larger scale over p50 at the smaller one, for the growth target's pages."""
    return {
        name: large[name]["seq"]["p50_ms"] / small[name]["seq"]["p50_ms"]
        for name in GROWTH_PAGES
        if name in small and name in large
    }


def mark(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def peer_results(raw, peer_dir, scale):
    """This run's peer figures, or the peer's own earlier run (said so in the report)."""
    found = {}
    for name in PEER_PAIRS.values():
        data = load(os.path.join(raw, f"peer_http_{name}.json"))
        if data and name in data.get("endpoints", {}):
            found[name] = data["endpoints"][name]
    if found:
        return found, load(os.path.join(raw, "peer_queries.json"), {}), "measured in this run, alternating with ours"
    data = load(os.path.join(peer_dir, "results", f"http_{scale}.json"))
    if data:
        queries = load(os.path.join(peer_dir, "results", f"queries_{scale}.json"), {})
        return data["endpoints"], queries, "NOT measured in this run: the peer's own earlier run (../shared/peers/helpdesk/results)"
    return {}, {}, "no peer figures"


def build(scale, raw, peer_dir):
    seed = load(os.path.join(raw, "seed.json"), {})
    queries = load(os.path.join(raw, "queries.json"), {})
    http = load(os.path.join(raw, "http.json"), {"endpoints": {}})
    sweep = load(os.path.join(raw, "sweep.json"))
    sq_auto = load(os.path.join(raw, "sq_auto.json"))
    machine = load(os.path.join(raw, "machine.json"), {})
    prepare = load(os.path.join(raw, "prepare.json"), {})
    other_scale = SMALLER.get(scale)
    other = os.path.join(os.path.dirname(raw.rstrip("/")), other_scale) if other_scale else None
    other_http = load(os.path.join(other, "http.json")) if other else None
    other_queries = load(os.path.join(other, "queries.json")) if other else None
    other_sweep = load(os.path.join(other, "sweep.json")) if other else None
    peer, peer_queries, peer_source = peer_results(raw, peer_dir, scale)
    eps = http.get("endpoints", {})
    lines = []
    out = lines.append
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    out(f"# Benchmark at {scale}: {fmt(seed.get('complaints'))} complaints ({date})")
    out("")
    out("Produced by `make bench SCALE=" + scale + ("` with `PEER=1`" if peer_source.startswith("measured") else "`") + " (bench/run.sh); raw JSON in "
        f"`bench/results/raw/{scale}/`. Method: bench/README.md.")
    out("")

    # --- targets -------------------------------------------------------------------------
    targets = []
    for ours, theirs, label in (("complaint_api_list", "ticket_list_json", "complaint list (API JSON) vs ticket list (JSON)"),
                                ("complaint_list", "ticket_list_json", "complaint list (HTML, rows included) vs ticket list (JSON)"),
                                ("dashboard", "dashboard", "dashboard vs dashboard"),
                                ("dashboard_recompute", "dashboard", "dashboard recomputed on every view (?refresh=1) vs dashboard")):
        o, p = eps.get(ours), peer.get(theirs)
        if not (o and p):
            targets.append((f"{label}: 10x faster p50, 10x throughput", None, "not measured"))
            continue
        speed = p["seq"]["p50_ms"] / o["seq"]["p50_ms"]
        thr = o["conc"]["rps"] / p["conc"]["rps"] if p["conc"]["rps"] else None
        targets.append((f"{label}: at least 10x faster (p50)", speed >= 10, f"{speed:,.1f}x ({o['seq']['p50_ms']} ms vs {p['seq']['p50_ms']} ms)"))
        targets.append((f"{label}: at least 10x the throughput with 8 clients", thr is not None and thr >= 10,
                        f"{thr:,.1f}x ({o['conc']['rps']} vs {p['conc']['rps']} req/s)" if thr else "–"))
    search = eps.get("audit_trail_search")
    targets.append(("audit trail free-text search (?q=) p50 under 300 ms" + (" at 100k" if scale == "100k" else ""),
                    (search["seq"]["p50_ms"] < 300 if scale == "100k" else None) if search else None,
                    f"{search['seq']['p50_ms']} ms p50" if search else "not measured"))
    for name, label in (("complaint_list_search", "complaint list"), ("complaint_api_search", "complaint API")):
        found = eps.get(name)
        targets.append((f"{label} full-text search (?search=) p50 under 100 ms" + (" at 100k" if scale == "100k" else ""),
                        (found["seq"]["p50_ms"] < 100 if scale == "100k" else None) if found else None,
                        f"{found['seq']['p50_ms']} ms p50" if found else "not measured"))
    over = {name: r["queries"] for name, r in queries.items() if r["queries"] > QUERY_LIMIT}
    if sq_auto and sq_auto.get("dashboard"):
        board = sq_auto["dashboard"]
        most = max(part["queries"] for part in board.values())
        targets.append((f"service-quality dashboard (page and API) at most {QUERY_LIMIT} SQL queries",
                        most <= QUERY_LIMIT, ", ".join(f"{name}: {part['queries']}" for name, part in board.items())))
    targets.append((f"every page at most {QUERY_LIMIT} SQL queries (any page size, any data size)", not over if queries else None,
                    "all within" if queries and not over else ", ".join(f"{k}: {v}" for k, v in over.items()) or "not measured"))
    side_small = load(os.path.join(raw, f"growth_{other_scale}.json")) if other_scale else None
    side_large = load(os.path.join(raw, f"growth_{scale}.json"))
    if side_small and side_large:
        # bench/growth.sh: both databases served at once, each page measured on one then the
        # other in the same minute, so a slower stretch of the shared machine hits both sides.
        growth = _growth(side_small["endpoints"], side_large["endpoints"])
        bad = {k: v for k, v in growth.items() if v > 1.3}
        label = f"cost at {scale} within 1.3x of {other_scale} (p50, both measured side by side by bench/growth.sh)"
        targets.append((label, not bad if growth else None, ", ".join(f"{k} x{v:.2f}" for k, v in growth.items())))
        if other_http:
            across = _growth(other_http["endpoints"], eps)
            targets.append(("for comparison: the same ratio between the two separate `make bench` runs", None,
                            ", ".join(f"{k} x{v:.2f}" for k, v in across.items())))
    elif other_http:
        growth = _growth(other_http["endpoints"], eps)
        bad = {k: v for k, v in growth.items() if v > 1.3}
        targets.append((f"cost at {scale} within 1.3x of {other_scale} (p50: " + ", ".join(GROWTH_PAGES) + ")", not bad if growth else None,
                        ", ".join(f"{k} x{v:.2f}" for k, v in growth.items())))
    elif other_scale:
        targets.append((f"cost at {scale} within 1.3x of {other_scale}", None, f"no {other_scale} results beside this run"))
    if sweep:
        first = sweep["first_run"]
        targets.append((f"SLA sweep over {fmt(sweep['prepared']['open_complaints'])} open complaints with {sweep['prepared']['due']} due in under 2 s",
                        first["seconds"] < 2 if sweep["prepared"]["due"] >= 1000 else None,
                        f"{first['seconds']} s, {'at least ' if first['queries'] >= 9000 else ''}{first['queries']} queries"
                        + (" (Django keeps at most 9,000 in its query log)" if first["queries"] >= 9000 else "")
                        + f", {first['steps_taken']} steps"))
        if other_sweep:
            # Within 2: which batches need the assignees' row or the managers' list varies with the
            # data by a query or so; growth with the open complaints would be thousands.
            same = abs(other_sweep["first_run"]["queries"] - first["queries"]) <= 2
            targets.append(("sweep query count does not grow with the open complaints (within 2)", same,
                            f"{other_sweep['first_run']['queries']} queries at 10k ({fmt(other_sweep['prepared']['open_complaints'])} open) vs {first['queries']} here"))
    limit = {"100k": 600, "1m": 1800}.get(scale)
    if seed.get("seconds_total") is not None and limit:
        targets.append((f"seeding {scale} in under {limit // 60} minutes", seed["seconds_total"] < limit,
                        f"{seed['seconds_total']} s (migrations, generation, COPY and indexes, ANALYZE, chain re-check)"))
    recompute = (side_large or {}).get("endpoints", {}).get("dashboard_recompute") or eps.get("dashboard_recompute")
    if scale == "1m":
        targets.append(("recomputed dashboard under 500 ms p50 at 1M", recompute["seq"]["p50_ms"] < 500 if recompute else None,
                        f"{recompute['seq']['p50_ms']} ms p50" if recompute else "not measured"))
    writes = load(os.path.join(raw, "writes.json"))
    if writes:
        integrity = writes["integrity"]
        targets.append((f"writes under load ({writes['clients']} clients, {writes['elapsed_s']} s): one history row and one transition row per write, chains intact",
                        integrity["ok"], f"{integrity['complaints_created']} created, {integrity['transition_posts']} transitions; "
                        + ", ".join(f"{t} {c['rows']} new rows, {c['broken']} broken" for t, c in integrity["chains"].items())))
    out("## Targets (issue 9, item 4)")
    out("")
    out("| target | result | figure |")
    out("|---|---|---|")
    for label, ok, figure in targets:
        out(f"| {label} | {mark(ok)} | {figure} |")
    out("")
    out(f"Peer figures: {peer_source}.")
    out("")

    # --- environment ---------------------------------------------------------------------
    static = machine.get("static", {})
    packages = {line.split("==")[0].lower(): line.split("==")[1] for line in static.get("packages", []) if "==" in line}
    out("## Machine and versions")
    out("")
    out(f"- machine: `nproc` = {static.get('nproc')}, {static.get('cpu')}, memory {static.get('memory')}, kernel {static.get('kernel')}")
    out(f"- Python {static.get('python')}, Django {packages.get('django')}, DRF {packages.get('djangorestframework')}, "
        f"django-simple-history {packages.get('django-simple-history')}, psycopg {packages.get('psycopg')}, gunicorn {packages.get('gunicorn')}, "
        f"httpx {packages.get('httpx')} (client); PostgreSQL {static.get('postgres')} on 127.0.0.1:5432 (shared with the team's databases)")
    out(f"- app commit {static.get('git_commit')}; gunicorn 2 sync workers, DEBUG off, real SECRET_KEY, CONN_MAX_AGE 60, cached_db sessions, Redis cache, gc.freeze() after load")
    out("- load average (1, 5, 15 min) during the run, since client, server, database and other work share the 2 cores:")
    for item in machine.get("load", []):
        out(f"  - {item['at']} {item['label']}: {' / '.join(item['loadavg'])}")
    out("")

    # --- seeding -------------------------------------------------------------------------
    counts = seed.get("counts", {})
    out("## Data and seeding")
    out("")
    if seed:
        if prepare.get("template"):
            out(f"The database was created from `{prepare['template']}`, an empty migrated database, so `migrate` "
                "found nothing to do (a full `migrate` of a new database takes 30-60 s on this machine).")
            out("")
        out(f"Seeded in **{seed.get('seconds_total')} s** wall (migrations included); VACUUM ANALYZE afterwards "
            f"{prepare.get('vacuum_analyze_s', '–')} s (not counted). Steps: "
            + ", ".join(f"{k} {v} s" for k, v in seed.get("steps", {}).items()))
        out("")
        out("| what | rows |")
        out("|---|---|")
        for key in ("complaints", "customers", "users", "capas", "capa_actions", "documents", "training_assignments",
                    "complaint_escalations", "survey_answers", "recurring", "kpi_snapshots"):
            out(f"| {key.replace('_', ' ')} | {fmt(counts.get(key))} |")
        for key in ("complaints_historicalcomplaint", "qms_transition", "qms_signature", "complaints_communication", "complaints_survey",
                    "training_historicaltrainingassignment", "capa_historicalcapa", "documents_documentversion"):
            out(f"| table {key} | {fmt(counts.get(key))} |")
        out("")
        out("Complaint states: " + ", ".join(f"{k} {fmt(v)}" for k, v in sorted(counts.get("complaint_status", {}).items())) + ". ")
        out("CAPA states: " + ", ".join(f"{k} {fmt(v)}" for k, v in sorted(counts.get("capa_status", {}).items())) + ". ")
        out(f"Hash chains: {fmt(counts.get('chain_rows_rechecked'))} rows re-checked with qms.history after the load.")
    out("")

    # --- endpoints -----------------------------------------------------------------------
    out("## Our endpoints (as the bench manager, a Quality Manager)")
    out("")
    out(f"Queries: SQL statements of the second of two identical requests, in-process. seq: {http.get('seq_n')} sequential requests "
        "(fewer, as shown in seq n, for a page so slow that they would take more than the cap of run.sh's SEQ_MAX_SECONDS). "
        f"conc: {http.get('conc')} concurrent clients for {http.get('duration_s')} s. Latencies in ms.")
    out("")
    out("| endpoint | queries | SQL ms | bytes | seq n | seq p50 | seq p95 | conc req/s | conc p50 | conc p95 | errors | client CPU |")
    out("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, q in queries.items():
        e = eps.get(name)
        row = [name, fmt(q["queries"]), fmt(q["sql_ms"]), fmt(q["bytes"])]
        if e:
            row += [fmt(e["seq"]["n"]), fmt(e["seq"]["p50_ms"]), fmt(e["seq"]["p95_ms"]), fmt(e["conc"]["rps"]), fmt(e["conc"].get("p50_ms")),
                    fmt(e["conc"].get("p95_ms")), fmt(e["seq"]["errors"] + e["conc"]["errors"]), fmt(e["client_cpu_share_of_one_core"], 2)]
        else:
            row += ["(in-process only)"] + [""] * 7
        out("| " + " | ".join(row) + " |")
    out("")
    for name, q in queries.items():
        if q.get("note"):
            out(f"- `{name}`: `{q['method']} {q['path']}`: {q['note']}")
    check = http.get("transition_check")
    if check:
        out(f"- transition POSTs sent {check['posted']}, workflow steps taken {check['taken']} (checked in the database afterwards).")
    repeated = {n: q["repeated_shapes"] for n, q in queries.items() if q.get("repeated_shapes")}
    if repeated:
        out("")
        out("Repeated statement shapes (same SQL, other literals) in one request:")
        for name, shapes in repeated.items():
            for sql, n in shapes.items():
                out(f"- `{name}` x{n}: `{sql[:160]}`")
    if other_queries:
        out("")
        out("Query counts at 10k vs here: " + ", ".join(f"{n} {other_queries[n]['queries']}→{q['queries']}" for n, q in queries.items() if n in other_queries) + ".")
    out("")

    # --- growth, side by side ---------------------------------------------------------------
    if side_small and side_large:
        out(f"## Growth {other_scale} -> {scale}, measured side by side")
        out("")
        out(f"`bench/growth.sh` served the {other_scale} and {scale} databases at once (two gunicorns, each with its own Redis "
            "database) and measured each page on one, then on the other, page by page.")
        out("")
        out(f"| endpoint | seq p50 {other_scale} / {scale} (ms) | growth | req/s {other_scale} / {scale} |")
        out("|---|---|---|---|")
        for name in GROWTH_PAGES:
            a, b = side_small["endpoints"].get(name), side_large["endpoints"].get(name)
            if a and b:
                out(f"| {name} | {a['seq']['p50_ms']} / {b['seq']['p50_ms']} | x{b['seq']['p50_ms'] / a['seq']['p50_ms']:.2f} | "
                    f"{a['conc']['rps']} / {b['conc']['rps']} |")
        out("")

    # --- peer ----------------------------------------------------------------------------
    if peer:
        out("## Side by side with django-helpdesk 2.6.1")
        out("")
        out(f"Peer figures: {peer_source}. Ratios are ours / peer: latency below 1 and throughput above 1 favour ours.")
        out("")
        out("| ours | peer | queries ours / peer | seq n ours / peer | seq p50 ours / peer (ms) | p50 ratio | req/s ours / peer | throughput ratio |")
        out("|---|---|---|---|---|---|---|---|")
        pairs = dict(PEER_PAIRS)
        pairs["complaint_list_filtered"] = "ticket_list_json"
        for ours, theirs in pairs.items():
            o, p = eps.get(ours), peer.get(theirs)
            if not (o and p):
                continue
            pq = (peer_queries.get(theirs) or peer_queries.get("endpoints", {}).get(theirs) or {}).get("queries", "–") if isinstance(peer_queries, dict) else "–"
            oq = queries.get(ours, {}).get("queries", "–")
            out(f"| {ours} | {theirs} | {oq} / {pq} | {o['seq']['n']} / {p['seq']['n']} | {o['seq']['p50_ms']} / {p['seq']['p50_ms']} | {o['seq']['p50_ms'] / p['seq']['p50_ms']:.3f} | "
                f"{o['conc']['rps']} / {p['conc']['rps']} | {o['conc']['rps'] / p['conc']['rps']:.1f} |")
        out("")
        out("The peer's list HTML is a shell whose rows come from its JSON endpoint; ours renders the rows in the page, so the "
            "HTML list is compared with the peer's JSON list as well as our API list.")
        out("")

    # --- sweep ---------------------------------------------------------------------------
    if sweep:
        out("## SLA escalation sweep")
        out("")
        p = sweep["prepared"]
        out(f"`complaints.services.escalate_due_complaints()` called directly on a copy of the database in which all "
            f"{fmt(p['open_complaints'])} complaints are open and {p['due']} fall due now (one first-response step each).")
        out("")
        out("| run | seconds | queries | SQL ms | steps taken |")
        out("|---|---|---|---|---|")
        for label in ("first_run", "second_run"):
            r = sweep[label]
            out(f"| {label.replace('_', ' ')} | {r['seconds']} | {fmt(r['queries'])} | {fmt(r['sql_ms'])} | {r['steps_taken']} |")
        out("")
        out("The due-selection query after the sweep:")
        out("")
        out("```")
        out(sweep.get("explain_due_query_after", ""))
        out("```")
        out("")
    # --- automatic evaluation (issue 17 item 4) -------------------------------------------
    if sq_auto:
        out("## Automatic evaluation of every interaction")
        out("")
        out(f"`bench/sq_auto.py` on a copy of the database: two scorecards in force with automatic criteria (an e-mail "
            f"one: required statement, friction, sentiment; a handling one: SLA times, reopen, survey), then "
            f"`service_quality.evaluator.interactions_evaluate` in batches of {sq_auto['batch_size']} over "
            f"{fmt(sq_auto['communications'])} communications and {fmt(sq_auto['complaints'])} complaint handlings.")
        out("")
        out("| run | seconds | communications | handlings | automatic scores | batches | interactions/s |")
        out("|---|---|---|---|---|---|---|")
        for label, title in (("full_run", "every interaction, from nothing"), ("second_run", "again, nothing new"),
                             ("incremental_run", f"after {fmt(sq_auto.get('new_entries'))} new entries")):
            r = sq_auto[label]
            out(f"| {title} | {r['seconds']} | {fmt(r['communications'])} | {fmt(r['handlings'])} | {fmt(r['auto_scores'])} "
                f"| {r['batches']} | {fmt(r['interactions_per_second'])} |")
        out("")
        for name, part in sq_auto.get("dashboard", {}).items():
            out(f"- service-quality dashboard ({name}, `GET {part['path']}`) over those scores: {part['queries']} SQL "
                f"queries, in-process p50 {part['p50_ms']} ms of {part['n']} requests")
        out("")
    if writes:
        out(writes_section(writes))
    return "\n".join(lines) + "\n"


def writes_section(writes: dict) -> str:
    lock, integrity = writes["advisory_lock"], writes["integrity"]
    rows = [
        "## Writes under load",
        "",
        f"`bench/write_load.py`: {writes['clients']} clients for {writes['elapsed_s']} s against the same gunicorn (2 sync workers), each "
        "creating a complaint, then taking a transition on its own complaint (wait for customer / resume), in a loop.",
        "",
        "| requests | req/s | p50 ms | p95 ms | max ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for kind in ("create", "transition"):
        r = writes[kind]
        rows.append(f"| {kind} ({fmt(r['n'])}) | {r['rps']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | {r['errors']} |")
    a = writes["all"]
    rows.append(f"| all ({fmt(a['n'])}) | {writes['rps']} | {a['p50_ms']} | {a['p95_ms']} | {a['max_ms']} | |")
    rows += [
        "",
        f"Advisory lock of the hash chains (pg_stat_activity sampled every {lock['interval_ms']} ms, {fmt(lock['samples'])} samples): "
        f"{lock['advisory_wait_s']} s waited in all, {lock['advisory_wait_ms_per_write']} ms per write; a backend was waiting in "
        f"{100 * lock['share_of_samples_with_a_waiter']:.1f} % of the samples, at most {lock['max_waiting_backends']} at once "
        f"(any lock: {lock['any_lock_wait_s']} s).",
        "",
        f"Integrity afterwards: **{'intact' if integrity['ok'] else 'FAILED'}**. {fmt(integrity['complaints_created'])} complaints created, "
        f"each with exactly one history row ({len(integrity['created_without_exactly_one_history_row'])} without) and "
        f"{integrity['transitions_on_created']} transitions; {fmt(integrity['transition_posts'])} transition POSTs, "
        f"{fmt(integrity['transition_rows'])} Transition rows, {fmt(integrity['transition_history_rows'])} history rows of those actions "
        f"({len(integrity['complaints_whose_counts_differ'])} complaints whose counts differ, {integrity['transitions_elsewhere']} transitions elsewhere). "
        "Hash chains from the last row before the run to the end: "
        + ", ".join(f"{t} {fmt(c['rows'])} rows, {c['broken']} broken" for t, c in integrity["chains"].items()) + ".",
        "",
    ]
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", required=True)
    parser.add_argument("--raw", required=True)
    parser.add_argument("--out-dir", default="bench/results")
    # ../shared/peers/helpdesk: the peer benchmark's harness on the benchmark machines (its earlier
    # results are read from there), a machine path, not a design document (those are in docs/).
    parser.add_argument("--peer-dir", default="../shared/peers/helpdesk")
    args = parser.parse_args(argv)
    text = build(args.scale, args.raw, args.peer_dir)
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    path = os.path.join(args.out_dir, f"{date}-{args.scale}.md")
    os.makedirs(args.out_dir, exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
