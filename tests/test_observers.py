"""Observers subscribe to the engine's events; any number of them, and they change nothing."""
from helpers import Recorder, spec

from numasim.host.costs import Host
from numasim.simulate import simulate
from numasim.tokio.profile import get_profile


def _spec():
    return spec([{"spin_us": 5}, {"spawn": {"name": "child", "steps": [{"spin_us": 20}, {"sleep_us": 300}]},
                                  "count": 6, "join": True}, {"yield": 1}], workers=2, duration_s=0.02)


def test_every_observer_sees_every_event_in_the_same_order():
    a, b = Recorder(), Recorder()
    simulate(_spec(), get_profile("1.49"), Host(), observers=[a, b])
    assert a.polls and a.parks and a.completed
    assert (a.polls, a.parks, a.completed) == (b.polls, b.parks, b.completed)
    assert a.errors == [] and b.errors == []


def test_observers_do_not_change_the_run():
    alone = simulate(_spec(), get_profile("1.49"), Host())
    watched = simulate(_spec(), get_profile("1.49"), Host(), observers=[Recorder(), Recorder(), Recorder()])
    assert list(alone.lines()) == list(watched.lines())


def test_the_fan_out_forwards_any_event_by_name():
    from numasim.simulate import Observers
    seen = []

    class Listener:
        def __init__(self, tag):
            self.tag = tag

        def steal(self, thief, victim, tasks):
            seen.append((self.tag, thief, victim, tasks))

    Observers([Listener("a"), Listener("b")]).steal(0, 1, ["t"])
    assert seen == [("a", 0, 1, ["t"]), ("b", 0, 1, ["t"])]
