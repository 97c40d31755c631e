#!/usr/bin/env bash
# Mutation run with mutmut 3 over pprflow's safety-critical modules, each against its fast tests.
# Prints, per set, the kill rate and every surviving mutant (with its diff), then a total.
#
#   scripts/mutation.sh                 # every set below
#   scripts/mutation.sh privacy esc1    # only these sets
#   MUTATION_CHILDREN=2 scripts/mutation.sh   (parallel mutant runs; default 2)
#   MUTANTS_esc1='pprflow.tasks.outbox.x__deliver__mutmut_*' scripts/mutation.sh esc1   (other functions)
#
# mutmut mutates files under `mutants/` of its working directory. pprflow's layout (models/, tasks/
# linked into pprflow/) is resolved by copying the package with its links followed into a scratch
# directory, so the worktree is never touched. Sets (module -> tests):
#   privacy  models/rules_privacy.py (CPR check PRIV-2, access PRIV-3, retention dates)
#   esc1     tasks/outbox.py: the ESC-1/CONS-1 suppression (`suppression`, `parent_emails`), which
#            queueing and delivery both call; MUTANTS_esc1 selects other functions (the whole module
#            is ~600 mutants: hours on 2 cores)
#   rules    models/rules_intake.py models/rules_levels.py models/rules_meetings.py models/rules_kv.py
#            models/rules_ppr.py
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY="$ROOT/.venv/bin/python"
CHILDREN=${MUTATION_CHILDREN:-2}
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false PYTHONWARNINGS=ignore
export PREFECT_HOME=${PREFECT_HOME:-$(mktemp -d)}

declare -A MODULES=(
  [privacy]="pprflow/models/rules_privacy.py"
  [esc1]="pprflow/tasks/outbox.py"
  [rules]="pprflow/models/rules_intake.py pprflow/models/rules_levels.py pprflow/models/rules_meetings.py pprflow/models/rules_kv.py pprflow/models/rules_ppr.py"
)
declare -A SELECT=(
  [privacy]=""
  [esc1]="${MUTANTS_esc1:-pprflow.tasks.outbox.x_suppression__mutmut_* pprflow.tasks.outbox.x_parent_emails__mutmut_*}"
  [rules]=""
)
declare -A TESTS=(
  [privacy]="tests/models/test_rules_privacy.py tests/property/test_privacy_properties.py tests/tasks/test_privacy.py"
  [esc1]="tests/tasks/test_outbox_esc1.py tests/tasks/test_abuse.py tests/tasks/test_outbox_transactions.py tests/tasks/test_consent.py"
  [rules]="tests/models tests/property"
)
SETS=("$@")
[ ${#SETS[@]} -eq 0 ] && SETS=(privacy esc1 rules)

total_killed=0; total_all=0
for set in "${SETS[@]}"; do
  [ -n "${MODULES[$set]:-}" ] || { echo "error: unknown set '$set' (privacy, esc1, rules)" >&2; exit 2; }
  work=$(mktemp -d "${TMPDIR:-/tmp}/pprflow-mutation-$set.XXXX")
  cp -rL "$ROOT/pprflow" "$work/pprflow"
  cp -r "$ROOT/tests" "$work/tests"
  find "$work" -name __pycache__ -prune -exec rm -rf {} +
  # pytest's settings without mutmut's section: mutmut reads setup.cfg.
  "$PY" - "$ROOT/pyproject.toml" "$work/pytest.ini" <<'PYEOF'
import sys, tomllib
opts = tomllib.load(open(sys.argv[1], "rb"))["tool"]["pytest"]["ini_options"]
markers = "\n".join(f"    {m}" for m in opts["markers"] + ["slow: slow fault test"])
open(sys.argv[2], "w").write(f"[pytest]\ntestpaths = tests\naddopts = -p no:cacheprovider -x -q\nmarkers =\n{markers}\n"
                             "filterwarnings = ignore::DeprecationWarning\n")
PYEOF
  {
    echo "[mutmut]"
    echo "source_paths = pprflow"
    echo "only_mutate ="; for m in ${MODULES[$set]}; do echo "    $m"; done
    echo "also_copy ="; echo "    tests"; echo "    pytest.ini"
    echo "pytest_add_cli_args_test_selection ="; for t in ${TESTS[$set]}; do echo "    $t"; done
    echo "pytest_add_cli_args ="; echo "    -m"; echo "    not slow and not prefect and not browser"
  } > "$work/setup.cfg"
  echo "== $set: ${MODULES[$set]}"
  echo "   tests: ${TESTS[$set]}"
  # shellcheck disable=SC2086  (the selection is a list of globs for mutmut, not for the shell)
  (cd "$work" && set -f && "$ROOT/.venv/bin/mutmut" run --max-children "$CHILDREN" ${SELECT[$set]} > "$work/run.log" 2>&1) || {
    echo "mutmut failed for $set; log: $work/run.log" >&2; tail -20 "$work/run.log" >&2; exit 1; }
  (cd "$work" && "$ROOT/.venv/bin/mutmut" results --all true > "$work/results.all" 2>&1) || true
  if [ -n "${SELECT[$set]}" ]; then  # count only the mutants this run selected
    "$PY" - "$work/results.all" ${SELECT[$set]//\*/%} > "$work/results.txt" <<'PYEOF'
import fnmatch, sys
patterns = [p.replace("%", "*") for p in sys.argv[2:]]
for line in open(sys.argv[1]):
    name = line.split(":", 1)[0].strip()
    if any(fnmatch.fnmatch(name, p) for p in patterns):
        sys.stdout.write(line)
PYEOF
  else
    cp "$work/results.all" "$work/results.txt"
  fi
  read -r killed all < <("$PY" - "$work/results.txt" <<'PYEOF'
import sys, collections
counts = collections.Counter(line.rsplit(":", 1)[1].strip() for line in open(sys.argv[1]) if ":" in line)
killed = counts["killed"] + counts["timeout"] + counts["segfault"] + counts["caught by type check"]
print(killed, sum(counts.values()), file=sys.stdout)
print("   statuses:", dict(counts), file=sys.stderr)
PYEOF
  )
  total_killed=$((total_killed + killed)); total_all=$((total_all + all))
  "$PY" -c "import sys; k,a=int(sys.argv[1]),int(sys.argv[2]); print(f'   kill rate: {k}/{a} = {100*k/max(a,1):.1f}%')" "$killed" "$all"
  survivors=$(grep -E ": (survived|no tests|suspicious)$" "$work/results.txt" | cut -d: -f1 || true)
  if [ -n "$survivors" ]; then
    echo "   surviving mutants:"
    for name in $survivors; do
      echo "   --- $name"
      (cd "$work" && "$ROOT/.venv/bin/mutmut" show "$name" 2>/dev/null | sed -n '3,40p' | sed 's/^/      /') || true
    done
  fi
  echo "   work dir: $work"
done
"$PY" -c "import sys; k,a=int(sys.argv[1]),int(sys.argv[2]); print(f'== total kill rate: {k}/{a} = {100*k/max(a,1):.1f}%')" "$total_killed" "$total_all"
