#!/usr/bin/env bash
# Mutation run with mutmut 3 over pprflow's safety-critical modules, each against its fast tests.
# Prints, per set, the kill rate and every surviving mutant (with its diff), then a total.
#
#   scripts/mutation.sh                 # every set below
#   scripts/mutation.sh privacy esc1    # only these sets
#   MUTATION_CHILDREN=2 scripts/mutation.sh   (parallel mutant runs; default 1: the machine is shared)
#   TESTS_access='tests/models/test_access.py' scripts/mutation.sh access   (other tests, e.g. a "before" figure)
#   MUTANTS_esc1='pprflow.tasks.outbox.x__deliver__mutmut_*' scripts/mutation.sh esc1   (other functions)
#
# mutmut mutates files under `mutants/` of its working directory. pprflow's layout (models/, tasks/
# linked into pprflow/) is resolved by copying the package with its links followed into a scratch
# directory, so the worktree is never touched. Sets (module -> tests):
#   privacy  models/rules_privacy.py (CPR check PRIV-2, access PRIV-3, retention dates)
#   esc1     tasks/outbox.py, every ESC-1/ESC-2/CONS-1 function: who is a parent (`_parents_of`,
#            `_parent_rows`, `_cases_with_parents`, `parent_emails`, `is_protected_parent`), which cases
#            are the same child's (`same_child_case_ids`), confidentiality (`is_confidential`,
#            `protected_among`), the rule itself (`suppression`, which queueing and delivery both call)
#            and the ESC-2 refusal line (`not_cancellable`)
#   esc1q    tasks/outbox.py: the recipient checks at queueing (`queue_message`) and the cancelling that
#            never touches the notification (`cancel_message`, `cancel_pending`, ESC-2)
#   deliver  tasks/outbox.py `_deliver`: the delivery loop with its re-check of `suppression` at
#            delivery (ESC-1, CONS-1) and the urgent lane (ESC-1/LAW-1); ~150 mutants, slow tests
#   rules    models/rules_intake.py models/rules_levels.py models/rules_meetings.py models/rules_kv.py
#            models/rules_ppr.py (against tests/models and the property tests but the ESC-1 state machine)
#   rules2   models/rules_deadlines.py (CAL-10) models/rules_moves.py (ROLE-2, ROLE-3)
#   access   models/access.py: the one access policy (PRIV-3, PRIV-4), the whole module
#   authorize tasks/access.py: `authorize` (the service-layer entrance), `resolve_actor`, `case_facts_for`
#            and the ESC-1 parent check `_parent_of_confidential_child` (MUTANTS_authorize: others)
#   claim    tasks/outbox.py: the atomic outbox claim `claim_next` and the dead-claimant takeover
#            (`dead_claimants`, `_process_alive`, `new_claimant`) (MUTANTS_claim: others)
#   cpr      the CPR check (PRIV-2): models/rules_privacy.py's detector, redactor and validator and
#            models/abuse.py's blanking of a report (`blank_cpr_numbers`, `_Report._no_cpr`)
#   Always run under `nice -n 19` with MUTATION_CHILDREN=1 on a shared machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY="$ROOT/.venv/bin/python"
CHILDREN=${MUTATION_CHILDREN:-1}
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false PYTHONWARNINGS=ignore
export PREFECT_HOME=${PREFECT_HOME:-$(mktemp -d)}

declare -A MODULES=(
  [privacy]="pprflow/models/rules_privacy.py"
  [esc1]="pprflow/tasks/outbox.py"
  [esc1q]="pprflow/tasks/outbox.py"
  [deliver]="pprflow/tasks/outbox.py"
  [rules2]="pprflow/models/rules_deadlines.py pprflow/models/rules_moves.py"
  [rules]="pprflow/models/rules_intake.py pprflow/models/rules_levels.py pprflow/models/rules_meetings.py pprflow/models/rules_kv.py pprflow/models/rules_ppr.py"
  [access]="pprflow/models/access.py"
  [authorize]="pprflow/tasks/access.py"
  [claim]="pprflow/tasks/outbox.py"
  [cpr]="pprflow/models/rules_privacy.py pprflow/models/abuse.py"
)
declare -A SELECT=(
  [privacy]=""
  [esc1]="${MUTANTS_esc1:-pprflow.tasks.outbox.x__parents_of__mutmut_* pprflow.tasks.outbox.x__parent_rows__mutmut_* pprflow.tasks.outbox.x__cases_with_parents__mutmut_* pprflow.tasks.outbox.x_same_child_case_ids__mutmut_* pprflow.tasks.outbox.x_is_confidential__mutmut_* pprflow.tasks.outbox.x_parent_emails__mutmut_* pprflow.tasks.outbox.x_is_protected_parent__mutmut_* pprflow.tasks.outbox.x_protected_among__mutmut_* pprflow.tasks.outbox.x_suppression__mutmut_* pprflow.tasks.outbox.x_not_cancellable__mutmut_*}"
  [esc1q]="${MUTANTS_esc1q:-pprflow.tasks.outbox.x_queue_message__mutmut_* pprflow.tasks.outbox.x_cancel_message__mutmut_* pprflow.tasks.outbox.x_cancel_pending__mutmut_*}"
  [deliver]="${MUTANTS_deliver:-pprflow.tasks.outbox.x__deliver__mutmut_*}"
  [rules]="${MUTANTS_rules:-}"
  [rules2]="${MUTANTS_rules2:-}"
  [access]=""
  [authorize]="${MUTANTS_authorize:-pprflow.tasks.access.x_authorize__mutmut_* pprflow.tasks.access.x_resolve_actor__mutmut_* pprflow.tasks.access.x_case_facts_for__mutmut_* pprflow.tasks.access.x__parent_of_confidential_child__mutmut_*}"
  [claim]="${MUTANTS_claim:-pprflow.tasks.outbox.x_claim_next__mutmut_* pprflow.tasks.outbox.x_dead_claimants__mutmut_* pprflow.tasks.outbox.x__process_alive__mutmut_* pprflow.tasks.outbox.x_new_claimant__mutmut_*}"
  [cpr]="${MUTANTS_cpr:-pprflow.models.rules_privacy.x__is_date__mutmut_* pprflow.models.rules_privacy.x_contains_cpr_number__mutmut_* pprflow.models.rules_privacy.x_redact_cpr_numbers__mutmut_* pprflow.models.rules_privacy.x_check_no_cpr_number__mutmut_* pprflow.models.rules_privacy.x__texts__mutmut_* pprflow.models.rules_privacy.x_is_cpr_error__mutmut_* pprflow.models.rules_privacy.xǁNoCprNumbersǁ_no_cpr_number__mutmut_* pprflow.models.abuse.x_blank_cpr_numbers__mutmut_* pprflow.models.abuse.xǁ_Reportǁ_no_cpr__mutmut_*}"
)
declare -A TESTS=(
  [privacy]="tests/models/test_rules_privacy.py tests/property/test_privacy_properties.py tests/tasks/test_privacy.py"
  [esc1]="tests/tasks/test_esc1_exact.py tests/tasks/test_outbox_esc1.py tests/tasks/test_esc1_by_construction.py tests/tasks/test_abuse.py tests/tasks/test_consent.py"
  [esc1q]="tests/tasks/test_esc1_exact.py tests/tasks/test_outbox_esc1.py tests/tasks/test_esc1_by_construction.py tests/tasks/test_abuse.py tests/tasks/test_outbox_transactions.py tests/tasks/test_consent.py"
  [deliver]="tests/tasks/test_outbox_esc1.py tests/tasks/test_esc1_exact.py tests/tasks/test_outbox_claim.py tests/tasks/test_urgent_lane.py tests/tasks/test_delivery_throttle.py"
  [rules2]="tests/models tests/property/test_deadline_working_days.py"
  [rules]="tests/models tests/property/test_calendar_properties.py tests/property/test_deadline_working_days.py tests/property/test_mail_wording_properties.py tests/property/test_privacy_properties.py tests/property/test_strict_input_properties.py"
  [access]="tests/models/test_access.py tests/models/test_access_policy_exact.py"
  [authorize]="tests/tasks/test_authorize.py"
  [claim]="tests/tasks/test_outbox_claim.py tests/tasks/test_outbox_transactions.py"
  [cpr]="tests/models/test_rules_privacy.py tests/models/test_cpr_check.py"
)
SETS=("$@")
[ ${#SETS[@]} -eq 0 ] && SETS=(privacy esc1 esc1q deliver rules rules2 access authorize claim cpr)

total_killed=0; total_all=0
for set in "${SETS[@]}"; do
  [ -n "${MODULES[$set]:-}" ] || { echo "error: unknown set '$set' (privacy, esc1, esc1q, deliver, rules, rules2, access, authorize, claim, cpr)" >&2; exit 2; }
  override="TESTS_$set"; TESTS[$set]=${!override:-${TESTS[$set]}}
  work=$(mktemp -d "${TMPDIR:-/tmp}/pprflow-mutation-$set.XXXX")
  cp -rL "$ROOT/pprflow" "$work/pprflow"
  cp -r "$ROOT/tests" "$work/tests"
  # tests read these beside the package: regenerate_snapshots.py (calendar snapshots), the example referrals
  cp -r "$ROOT/scripts" "$work/scripts"; cp -r "$ROOT/examples" "$work/examples"
  find "$work" -name __pycache__ -prune -exec rm -rf {} +
  # Hypothesis judges a mutant by its answers, not its speed (the shared machine makes the first call of a
  # property test take seconds), and draws the same examples for every mutant.
  printf '\n\nfrom hypothesis import settings as _mutation_settings\n\n_mutation_settings.register_profile("mutation", deadline=None, derandomize=True)\n_mutation_settings.load_profile("mutation")\n' >> "$work/tests/conftest.py"
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
    echo "also_copy ="; echo "    tests"; echo "    scripts"; echo "    examples"; echo "    pytest.ini"
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
