"""A sweep kind for tests: the `spec` evaluator, logging each evaluation it starts.

Every call appends `KEY-OF-PAYLOAD\\n` to the file named by $NUMASIM_EVAL_LOG (one O_APPEND write,
so lines from parallel workers never interleave), so a test can count how often a point ran.
"""
import hashlib
import json
import os

from numasim import sweep


def _evaluate(payload):
    key = hashlib.sha256(json.dumps(["counting", payload], sort_keys=True).encode()).hexdigest()[:20]
    fd = os.open(os.environ["NUMASIM_EVAL_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (key + "\n").encode())
    finally:
        os.close(fd)
    return sweep.EVALUATORS["spec"].evaluate(payload)


spec = sweep.EVALUATORS["spec"]
sweep.register_evaluator("counting", sweep.Evaluator(spec.load_base, spec.prepare, _evaluate))
