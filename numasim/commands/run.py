"""`numasim run`: the default scenario (Hawk on graviton4-2node, prod sizes) in every layout.

With no arguments it runs numasim/data/hawk-default.toml: today, pinned, dual and single-node
side by side over the scenario's seeds, then the decision-matrix row and the verdict on the dual
runtime. A progress bar shows on a terminal. `numasim compare FILE` does the same for any scenario.
"""
import sys


def register(sub):
    from .compare import add_common
    p = sub.add_parser("run", help="run the default Hawk scenario in every layout and print the verdict",
                       description=__doc__)
    add_common(p)
    p.add_argument("--scenario", default=None, help="a scenario TOML instead of the default")
    p.set_defaults(func=run)


def run(args):
    from ..hawk.scenario import default_scenario, load_scenario
    from .compare import execute
    sc = load_scenario(args.scenario) if args.scenario else default_scenario()
    execute(sc, args, sys.stdout)
    return 0
