"""Mutation testing of the core modules, run by hand (CPU-heavy: never in CI).

    python tools/mutation_check.py [--targets metrics core ...] [--sample 12] [--seed 0]
        [--timeout 300] [--out /tmp/mutation] [--keep]

For each target (a module and the fast tests that should guard it) the script asks mutmut's
mutation engine (`mutmut.mutation.file_mutation.create_mutations`, the operators `mutmut run`
uses) for every one-node mutant of the module, samples `--sample` of them with a fixed seed,
and runs the target's tests once per mutant in a scratch copy of the repository (`-x`, first
failure stops). A mutant is *killed* when the tests fail (or error), *survived* when they pass,
*timeout* past `--timeout` seconds. The survival rate is survived / (killed + survived); a
surviving mutant's diff is printed so a person can decide whether a test is missing or the
mutant is equivalent. Results: OUT/mutation.json.

We do not use `mutmut run` itself: it copies the tree into `mutants/`, instruments every
function with trampolines and runs the whole suite under coverage first, which on a shared
2-core machine takes hours for these modules; sampling with a targeted test selection bounds a
run to minutes and is stated in the results.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    # the build core: the engine, the publish protocol and lock, the reference check, path containment
    "core": ("pipelines/core/engine.py", ["tests/test_core_units.py", "tests/test_build_integrity.py", "-m", "not slow"]),
    "publish": ("pipelines/core/publish.py", ["tests/test_build_integrity.py", "-m", "not slow"]),
    "lock": (
        "pipelines/core/lock.py",
        [
            "tests/test_core_units.py",
            "tests/test_build_integrity.py",
            "-m",
            "not slow",
            "-k",
            "lock or second_build or concurrent or stale",
        ],
    ),
    "references": (
        "pipelines/core/references.py",
        [
            "tests/test_build_integrity.py",
            "tests/test_core_units.py",
            "-m",
            "not slow",
            "-k",
            "dangling or duplicate or reference or unique",
        ],
    ),
    "paths": ("pipelines/core/paths.py", ["tests/test_core_units.py", "tests/test_input_safety.py", "-m", "not slow"]),
    "splits": ("pipelines/core/splits.py", ["tests/test_core_units.py"]),
    # privacy: the recognisers and their checks (Luhn, ID checksum, phone shapes), the text stage
    "recognizers": (
        "pipelines/privacy/recognizers.py",
        ["pipelines/privacy/test_recognizers.py", "pipelines/privacy/test_privacy.py", "-m", "not slow"],
    ),
    "text_privacy": ("pipelines/privacy/text.py", ["pipelines/privacy/test_text.py", "-m", "not slow"]),
    # modeling: metrics and negative sampling
    "metrics": (
        "modeling/metrics/ranking.py",
        ["tests/modeling_suite/test_modeling_metrics.py", "tests/modeling_suite/test_modeling_larch_eval.py"],
    ),
    "text_metrics": ("modeling/metrics/text.py", ["tests/modeling_suite/test_text_metrics.py"]),
    "negatives": ("modeling/data/dataset.py", ["tests/modeling_suite/test_modeling_data.py"]),
    # the transforms' tests build corpora with Beam: the selection keeps one module build plus the edge cases
    "mmd_transforms": (
        "pipelines/mmd/transforms.py",
        ["pipelines/mmd/test_mmd.py", "-k", "faithful or repeat_a_positive or manifest_counts"],
    ),
    "redial_transforms": (
        "pipelines/redial/transforms.py",
        ["pipelines/redial/test_redial.py", "-k", "names_and_templates or parse_merges or generated_build_counts or real_mentions"],
    ),
    "jddc_reader": ("pipelines/jddc/reader.py", ["pipelines/jddc/test_jddc.py", "-m", "not slow"]),
}
IGNORE = shutil.ignore_patterns(".git", ".venv", ".venv-ls", "demo-out", "runs", "mutants", "__pycache__", "*.egg-info", ".pytest_cache")


def mutants(path: Path, sample: int, seed: str) -> tuple[int, list[tuple[str, str]]]:
    """(number of mutants mutmut's engine proposes, (description, mutated source) of a seeded sample)."""
    # mutmut reads its config on import; point it at a scratch folder so the project needs none
    cfg_dir = tempfile.mkdtemp(prefix="mutmut-cfg-")
    Path(cfg_dir, "setup.cfg").write_text("[mutmut]\nsource_paths=.\n")
    cwd = os.getcwd()
    os.chdir(cfg_dir)
    try:
        from mutmut.mutation.file_mutation import create_mutations

        code = path.read_text()
        module, found, _, _ = create_mutations(str(path), code)
        order = list(range(len(found)))
        random.Random(seed).shuffle(order)
        out = []
        for i in order:  # the tree is rewritten only for the mutants that run
            m = found[i]
            new = module.deep_replace(m.original_node, m.mutated_node).code
            if new != code:
                out.append((_describe(code, new), new))
            if sample and len(out) >= sample:
                break
        return len(found), out
    finally:
        os.chdir(cwd)
        shutil.rmtree(cfg_dir, ignore_errors=True)


def _describe(old: str, new: str) -> str:
    diff = [x for x in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0) if x[:1] in "+-@"]
    return "\n".join(diff[2:8])


def run_tests(copy: Path, tests: list[str], timeout: int) -> tuple[str, float]:
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-W", "ignore", *tests]
    try:
        proc = subprocess.run(cmd, cwd=copy, capture_output=True, timeout=timeout, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t0
    status = "survived" if proc.returncode == 0 else ("killed" if proc.returncode in (1, 2, 3) else f"error:{proc.returncode}")
    return status, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--targets", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    ap.add_argument("--sample", type=int, default=12, help="mutants per target (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=int, default=300, help="seconds per test run")
    ap.add_argument("--out", default="/tmp/mutation")
    ap.add_argument("--keep", action="store_true", help="keep the scratch copy")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="mutation-"))
    copy = scratch / "repo"
    shutil.copytree(ROOT, copy, ignore=IGNORE, symlinks=True)
    for link in (".venv", ".venv-ls"):
        if (ROOT / link).exists() and not (copy / link).exists():
            os.symlink(os.path.realpath(ROOT / link), copy / link)
    if (ROOT.parent / "shared").exists():  # tests read ../shared (the real samples) when present
        os.symlink(os.path.realpath(ROOT.parent / "shared"), scratch / "shared")
    results = {
        "command": " ".join(["python tools/mutation_check.py", *sys.argv[1:]]),
        "sample": args.sample,
        "seed": args.seed,
        "targets": {},
    }
    try:
        for name in args.targets:
            module, tests = TARGETS[name]
            src = copy / module
            original = src.read_text()
            status, base_s = run_tests(copy, tests, args.timeout)
            if status != "survived":
                print(f"{name}: the unmutated tests do not pass ({status}); skipped", flush=True)
                results["targets"][name] = {"module": module, "tests": tests, "skipped": f"baseline {status}"}
                continue
            total, chosen = mutants(ROOT / module, args.sample, f"{args.seed}:{name}")
            print(f"{name}: {total} mutants, {len(chosen)} sampled; unmutated tests {base_s:.0f} s", flush=True)
            rows = []
            for i, (desc, code) in enumerate(chosen):
                src.write_text(code)
                try:
                    st, secs = run_tests(copy, tests, args.timeout)
                finally:
                    src.write_text(original)
                rows.append({"mutant": desc, "status": st, "seconds": round(secs, 1)})
                print(f"{name} {i + 1}/{len(chosen)}: {st} ({secs:.0f} s)", flush=True)
                if st == "survived":
                    print("  " + desc.replace("\n", "\n  "), flush=True)
            killed = sum(r["status"] == "killed" for r in rows)
            survived = sum(r["status"] == "survived" for r in rows)
            results["targets"][name] = {
                "module": module,
                "tests": tests,
                "mutants_total": total,
                "sampled": len(rows),
                "killed": killed,
                "survived": survived,
                "timeout_or_error": len(rows) - killed - survived,
                "survival_rate": round(survived / max(killed + survived, 1), 3),
                "baseline_test_s": round(base_s, 1),
                "mutants": rows,
            }
            with open(os.path.join(args.out, "mutation.json"), "w", encoding="utf-8") as fh:
                json.dump(results, fh, indent=2)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"{'target':<20} {'sampled':>7} {'killed':>6} {'survived':>8} {'survival':>8}")
    for name, r in results["targets"].items():
        if "sampled" in r:
            print(f"{name:<20} {r['sampled']:>7} {r['killed']:>6} {r['survived']:>8} {r['survival_rate']:>8.1%}")
    print(os.path.join(args.out, "mutation.json"))


if __name__ == "__main__":
    main()
