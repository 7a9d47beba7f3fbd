"""Command line: ``python -m suite <command> --help``.

Commands: list, params, equivalence, run, batch, compare, bench fidelity, edge, publish-reference, config-help.
User errors print one line ``error: ...`` and exit with status 2.
"""
from __future__ import annotations

import argparse
import json
import sys

from suite.errors import UserError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _print_table(rows: list[dict], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(rows, indent=1, default=str))
        return
    import pandas as pd
    frame = pd.DataFrame(rows)
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
        print(frame.to_string(index=False) if not frame.empty else "(no rows)")


def cmd_list(args) -> int:
    from suite.models.registry import implementations
    from suite.tasks.describe import describe_tasks
    from suite.tasks.registry import entry
    models = [{"kind": "model", "name": impl.name, "description": impl.description, "source": impl.source.text()}
              for impl in implementations().values()] if args.what in ("all", "models") else []
    tasks = [{"kind": "task", **t, "source": entry(t["name"]).source.text()} for t in describe_tasks()] \
        if args.what in ("all", "tasks") else []
    if args.format == "json":
        print(json.dumps(models + tasks, indent=1, default=str))
        return 0
    for r in models:
        source = "" if r["source"] == "built-in" else f"  [{r['source']}]"
        print(f"model  {r['name']:<18} {r['description']}{source}")
    for t in tasks:
        solved = f", solved at {t['solved']}" if t["solved"] is not None else ""
        source = "" if t["source"] == "built-in" else f"  [{t['source']}]"
        print(f"task   {t['name']:<18} {t['description']}{source}\n"
              f"       {'':<18} T={t['seq_len']} X={t['input_size']} O={t['output_size']} ({t['output']}, {t['head']}); "
              f"train/val/test {t['n_train']}/{t['n_val']}/{t['n_test']}; {t['metric']}: baseline "
              f"{t['baseline']:.4g} ({t['baseline_name']}){solved}")
    return 0


def cmd_params(args) -> int:
    from suite.models import build_model
    from suite.models.params import convention_name, formula_params
    from suite.models.registry import arch as arch_of, implementations
    from suite.spec import GRU_CONVENTIONS, ModelSpec
    rows, bad = [], 0
    for arch, framework in implementations():
        if args.framework and framework not in args.framework:
            continue
        for conv in (GRU_CONVENTIONS if arch_of(arch).uses("convention") else ("reset_after",)):
            try:
                ModelSpec(arch, framework, 1, 1, 1, convention=conv)
            except UserError:
                continue                        # a convention this implementation lacks (torch.nn.GRU: reset_after)
            for layers in args.layers:
                for hidden in args.hidden:
                    spec = ModelSpec(arch, framework, args.input, hidden, args.output, layers=layers, convention=conv)
                    counted, formula = build_model(spec).num_params(), formula_params(spec)
                    agree = None if formula is None else counted == formula
                    bad += agree is False
                    rows.append({"model": spec.name, "X": args.input, "H": hidden, "L": layers, "O": args.output,
                                 "counted": counted, "formula": formula, "agree": agree,
                                 "convention": convention_name(spec)})
    _print_table(rows, args.format)
    return 1 if bad else 0


def cmd_equivalence(args) -> int:
    from suite.models.equivalence import run_equivalence
    rows = run_equivalence()
    _print_table(rows, args.format)
    failed = [r for r in rows if not r["ok"]]
    if failed:
        print(f"{len(failed)} of {len(rows)} comparisons exceed their tolerance", file=sys.stderr)
    return 1 if failed else 0


def cmd_run(args) -> int:
    from suite.run.experiment import run_experiment
    return run_experiment(args.config, out=args.out, resume=args.resume, stages=args.stages, scheduler=args.scheduler)


def cmd_batch(args) -> int:
    from suite.run.batch import run_batch
    return run_batch(args.config, out=args.out, resume=args.resume, scheduler=args.scheduler)


def cmd_compare(args) -> int:
    from suite.report.compare import as_json, compare_runs, failing, format_table
    result = compare_runs(args.run_a, args.run_b)
    print(json.dumps(as_json(result), indent=1, default=str) if args.format == "json" else format_table(result))
    held = failing(result, args.fail_on or [])
    if held:
        print(f"compare: --fail-on holds: {'; '.join(held)}", file=sys.stderr)
    return 1 if held else 0


def cmd_bench(args) -> int:
    from suite.bench.fidelity import format_fidelity, run_fidelity
    from suite.bench.threads import configure_floating_point
    configure_floating_point("flush", ["torch"])     # as the speed workers do, before the first op
    print(format_fidelity(run_fidelity(threads=args.threads)))
    return 0


def cmd_edge(args) -> int:
    from suite.edge.measure import edge_rows, format_table
    rows = edge_rows(args.models, threads=args.threads, seed=args.seed, train_epochs=args.epochs,
                     tmpdir=args.out, hidden=args.hidden)
    if args.out:
        from pathlib import Path
        from suite.atomic import atomic_write_json
        atomic_write_json(Path(args.out) / "edge.json", rows)
    print(json.dumps(rows, indent=1, default=str) if args.format == "json" else format_table(rows))
    return 1 if any(r["status"] in ("failed", "mismatch") for r in rows) else 0


def cmd_publish(args) -> int:
    from suite.report.publish import publish_reference
    print(f"published {publish_reference(args.run_dir, args.dest)}")
    return 0


def cmd_config_help(args) -> int:
    from suite.config import schema_help
    print("\n".join(schema_help()))
    return 0


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``error: ...``) and exit status 2."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m suite", description="GRU vs LSTM vs Transformer benchmark suite")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)

    s = sub.add_parser("list", help="the models and tasks, one line each (tasks with sizes and baselines), plugins "
                                    "with their source")
    s.add_argument("what", nargs="?", choices=("all", "models", "tasks"), default="all")
    s.add_argument("--format", choices=("table", "json"), default="table")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("params", help="counted vs formula parameters per model and size (exit 1 on disagreement; "
                                      "a plugin without a formula: counted only)")
    s.add_argument("--input", type=_positive_int, default=32, metavar="X", help="input features (default 32)")
    s.add_argument("--hidden", type=_positive_int, nargs="+", default=[32, 64, 128], metavar="H",
                   help="widths (default 32 64 128)")
    s.add_argument("--layers", type=_positive_int, nargs="+", default=[1, 2], metavar="L", help="layers (default 1 2)")
    s.add_argument("--output", type=_positive_int, default=10, metavar="O", help="head outputs (default 10)")
    s.add_argument("--framework", nargs="+", choices=("numpy", "torch", "keras"), help="only these frameworks")
    s.add_argument("--format", choices=("table", "json"), default="table")
    s.set_defaults(func=cmd_params)

    s = sub.add_parser("equivalence", help="weight-transplant comparisons between implementations (exit 1 if any "
                                           "exceeds its tolerance)")
    s.add_argument("--format", choices=("table", "json"), default="table")
    s.set_defaults(func=cmd_equivalence)

    for name, func, text in (("run", cmd_run, "run the harness on a config (no notebooks), print a summary"),
                             ("batch", cmd_batch, "execute the notebooks with papermill and write the report")):
        s = sub.add_parser(name, help=text)
        s.add_argument("config", nargs="?", help="YAML config, e.g. configs/smoke.yaml (optional with --resume)")
        s.add_argument("--out", help="run directory (default results/<name>-<timestamp>)")
        s.add_argument("--resume", metavar="RUN_DIR", help="complete only what is missing in RUN_DIR")
        s.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the training units on this running Dask "
                       "scheduler (default: the config's 'scheduler', else a LocalCluster, one worker per core)")
        if name == "run":
            from suite.run.plan import STAGES
            s.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES), help="stages to run")
        s.set_defaults(func=func)

    s = sub.add_parser("compare", help="what changed from run A to run B: ratio B/A and significance per metric, "
                                       "verdict changes first (exit 1 when a --fail-on condition holds)")
    s.add_argument("run_a", metavar="RUN_A", help="the baseline run directory")
    s.add_argument("run_b", metavar="RUN_B", help="the run compared with it")
    s.add_argument("--format", choices=("table", "json"), default="table")
    s.add_argument("--fail-on", choices=("verdict", "regression"), action="append", metavar="{verdict,regression}",
                   help="exit 1 when a verdict changed / a metric got worse or newly failed (repeatable)")
    s.set_defaults(func=cmd_compare)

    s = sub.add_parser("bench", help="benchmarks of the suite itself")
    s.add_argument("which", choices=("fidelity",), help="fidelity: suite timer vs torch.utils.benchmark on nn.GRU")
    s.add_argument("--threads", type=_positive_int, default=1, help="intra-op threads (default 1)")
    s.set_defaults(func=cmd_bench)

    s = sub.add_parser("edge", help="each model's streaming step in ONNX Runtime / LiteRT, fp32 and int8: bytes, "
                                    "latency, memory, max diff, accuracy (exit 1 if a row failed)")
    s.add_argument("--models", nargs="+", metavar="MODEL", help="e.g. gru-torch lstm-keras (default: the six "
                   "gru|lstm|transformer x torch|keras)")
    s.add_argument("--format", choices=("table", "json"), default="table")
    s.add_argument("--out", help="keep the exported files (and edge.json) here (default: a temporary directory)")
    s.add_argument("--epochs", type=int, default=5, help="training epochs on digits/rows before export (default 5)")
    s.add_argument("--hidden", type=_positive_int, default=64, metavar="H", help="width (default 64)")
    s.add_argument("--threads", type=_positive_int, default=1, help="runtime/framework threads (default 1)")
    s.add_argument("--seed", type=int, default=0, help="init, split and stream seed (default 0)")
    s.set_defaults(func=cmd_edge)

    s = sub.add_parser("publish-reference", help="copy a finished batch's report to a folder (make reference)")
    s.add_argument("run_dir", help="a finished batch run directory")
    s.add_argument("dest", help="where to put the copy, e.g. results/reference")
    s.set_defaults(func=cmd_publish)

    s = sub.add_parser("config-help", help="every config key with its type, default and meaning")
    s.set_defaults(func=cmd_config_help)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
