"""Score and survivors of the last mutation run (scripts/mutation); run from the repository root
with the venv's Python, after ``mutmut run``.

Statuses come from mutmut's own records under mutants/. Detected = killed + timeout (a mutant
that makes the tests hang is caught) + segfault. Survivors listed in
scripts/mutation-equivalent.txt (``name  reason`` per line) are reported as equivalent and left
out of the adjusted score; a listed name that is no longer a survivor is reported as stale.
Exit status 0, or 1 when the adjusted score is under ``--fail-under``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

EQUIVALENT_FILE = Path("scripts/mutation-equivalent.txt")
DETECTED = {"killed", "timeout", "segfault", "caught by type check"}


def load_equivalent(path: Path) -> dict[str, str]:
    known: dict[str, str] = {}
    if not path.exists():
        return known
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        known[name] = reason.strip()
    return known


def module_of(name: str) -> str:
    # git_credential_hf.hub.x_whoami__mutmut_3 -> git_credential_hf.hub
    head = name.split(".x", 1)[0] if ".x" in name else name.rsplit(".", 1)[0]
    return head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--diffs", action="store_true", help="print each survivor's diff")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--fail-under", type=float, default=0.0, metavar="PCT")
    parser.add_argument("--equivalent", type=Path, default=EQUIVALENT_FILE, metavar="FILE",
                        help=f"survivors judged equivalent (default: {EQUIVALENT_FILE})")
    args = parser.parse_args(argv)

    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files

    statuses: dict[str, str] = {}
    paths: dict[str, Path] = {}
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name, code in data.exit_code_by_key.items():
            statuses[name] = status_by_exit_code[code]
            paths[name] = path
    if not statuses:
        print("no mutation results under mutants/: run scripts/mutation first", file=sys.stderr)
        return 2

    equivalent = load_equivalent(args.equivalent)
    per_module: dict[str, Counter] = defaultdict(Counter)
    for name, status in statuses.items():
        per_module[module_of(name)][status] += 1
    total = Counter(statuses.values())
    n = len(statuses)
    detected = sum(total[s] for s in DETECTED)
    undetected = sorted(m for m, s in statuses.items() if s not in DETECTED)
    eq = [m for m in undetected if m in equivalent]
    left = [m for m in undetected if m not in equivalent]
    stale = sorted(m for m in equivalent if m not in undetected)  # now killed, or gone
    raw = 100.0 * detected / n
    adjusted = 100.0 * detected / (n - len(eq)) if n > len(eq) else 100.0

    if args.json:
        print(json.dumps({
            "mutants": n, "statuses": dict(total), "detected": detected,
            "score": round(raw, 2), "equivalent": len(eq), "adjusted_score": round(adjusted, 2),
            "left": left, "stale_equivalent_entries": stale,
            "survived": sorted(m for m, s in statuses.items() if s == "survived"),
            "undetected": undetected,
            "modules": {m: dict(c) for m, c in sorted(per_module.items())},
        }, indent=2))
    else:
        print(f"{'module':34} {'mutants':>7} {'killed':>7} {'timeout':>7} {'survived':>8} "
              f"{'no tests':>8}")
        for module, c in sorted(per_module.items()):
            print(f"{module:34} {sum(c.values()):7} {c['killed']:7} {c['timeout']:7} "
                  f"{c['survived']:8} {c['no tests']:8}")
        shown = ("killed", "timeout", "survived", "no tests")
        others = {k: v for k, v in total.items() if k not in shown}
        print(f"{'total':34} {n:7} {total['killed']:7} {total['timeout']:7} {total['survived']:8} "
              f"{total['no tests']:8}" + (f"  other: {others}" if others else ""))
        print(f"score: {detected}/{n} detected = {raw:.1f} %; without the {len(eq)} listed as "
              f"equivalent in {args.equivalent.name}: {adjusted:.1f} %")
        if eq:
            print(f"\nequivalent ({len(eq)}):")
            for name in eq:
                print(f"  {name}: {equivalent[name]}")
        print(f"\nnot detected and not listed as equivalent ({len(left)}):")
        for name in left:
            print(f"  {name}: {statuses[name]}")
            if args.diffs:
                diff = get_diff_for_mutant(name, path=paths[name])
                for ln in diff.splitlines():
                    if ln[:1] in "+-" and ln[:3] not in ("+++", "---"):
                        print(f"      {ln}")
        if stale:
            print(f"\nstale entries in {args.equivalent} (no such survivor now): "
                  f"{', '.join(stale)}")
    return 1 if adjusted < args.fail_under else 0


if __name__ == "__main__":
    sys.exit(main())
