"""`numasim topology`: print a machine from a preset, `numactl --hardware` text or a sysfs tree."""
import json

from ..errors import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser("topology", help="print a NUMA machine (preset, numactl text or sysfs tree)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", metavar="NAME", help="a built-in machine (see --list)")
    src.add_argument("--numactl", metavar="FILE", help="a saved `numactl --hardware` output")
    src.add_argument("--sysfs", metavar="DIR", help="a sysfs node tree (/sys/devices/system/node or a copy)")
    src.add_argument("--list", action="store_true", help="list the presets")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def load_machine(args):
    """The machine named by --preset / --numactl / --sysfs (shared by other commands)."""
    from ..machine import preset, read_numactl, read_sysfs

    if getattr(args, "numactl", None):
        return read_numactl(args.numactl)
    if getattr(args, "sysfs", None):
        return read_sysfs(args.sysfs)
    if getattr(args, "preset", None):
        return preset(args.preset)
    raise UserError("", "give one of --preset NAME, --numactl FILE or --sysfs DIR (or --list)")


def run(args) -> int:
    from ..machine import PRESETS, preset

    if args.list:
        rows = [(name, preset(name).description) for name in PRESETS]
        if args.json:
            print(json.dumps([{"name": n, "description": d} for n, d in rows], indent=2))
        else:
            for n, d in rows:
                print(f"{n:20} {d}")
        return 0
    m = load_machine(args)
    print(json.dumps(m.to_dict(), indent=2) if args.json else m.to_text())
    return 0
