"""Forward-only delivery states: any order and any duplication of events ends the same."""

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rcsportal.campaigns import states
from rcsportal.messaging.events import EventType

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
EVENTS = [
    (EventType.ACCEPTED, T0, "", ""),
    (EventType.SENT, T0 + timedelta(seconds=1), "", ""),
    (EventType.DELIVERED, T0 + timedelta(seconds=2), "", ""),
    (EventType.READ, T0 + timedelta(seconds=3), "", ""),
    (EventType.FAILED, T0 + timedelta(seconds=4), "9", "Not delivered"),
    (EventType.FALLBACK_SENT, T0 + timedelta(seconds=5), "", ""),
    (EventType.FALLBACK_FAILED, T0 + timedelta(seconds=6), "x", "SMS failed"),
    (EventType.EXPIRED, T0 + timedelta(seconds=7), "", ""),
]


def _run(events, start=states.SUBMITTING):
    state = states.DeliveryState(status=start)
    totals: dict[str, int] = {}
    for event_type, at, code, text in events:
        before = states.DeliveryState(**vars(state))
        states.apply_event(state, event_type, at, error_code=code, error_text=text)
        states.merge_deltas(totals, states.counter_deltas(before, state))
    return state, {k: v for k, v in totals.items() if v}


def test_happy_path_reaches_read_with_all_timestamps():
    state, totals = _run(EVENTS[:4])
    assert state.status == states.READ
    assert state.sent_at == T0 + timedelta(seconds=1) and state.read_at == T0 + timedelta(seconds=3)
    assert totals == {"submitted": 1, "sent": 1, "delivered": 1, "read": 1}


def test_failure_then_fallback_sent_shows_the_fallback():
    state, totals = _run([EVENTS[0], EVENTS[4], EVENTS[5]])
    assert state.status == states.FALLBACK_SENT
    assert state.fallback_channel == "sms"
    assert state.error_text == "Not delivered"  # the RCS failure stays visible
    assert totals["fallback"] == 1 and totals.get("failed", 0) == 0


def test_fallback_failure_is_final_over_fallback_sent():
    state, _ = _run([EVENTS[5], EVENTS[6], EVENTS[4]])
    assert state.status == states.FAILED and state.fallback_channel == "sms"


def test_duplicates_change_nothing():
    once, totals_once = _run(EVENTS[:4])
    twice, totals_twice = _run([e for e in EVENTS[:4] for _ in range(2)])
    assert once == twice and totals_once == totals_twice


def test_every_order_of_events_ends_in_the_same_state():
    for subset_size in (3, 5):
        for subset in itertools.combinations(EVENTS, subset_size):
            results = {repr(_run(order)[0]) for order in itertools.permutations(subset)}
            assert len(results) == 1, subset


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(EVENTS), min_size=1, max_size=12), st.randoms())
def test_any_shuffle_with_duplicates_converges_and_counters_match_the_final_row(events, rnd):
    shuffled = list(events)
    rnd.shuffle(shuffled)
    state_a, totals_a = _run(events)
    state_b, totals_b = _run(shuffled)
    assert state_a == state_b
    # Counters are a function of the final row only (never double counted).
    assert totals_a == totals_b
    expected = {k: int(v) for k, v in state_a.milestones().items() if v}
    if state_a.status in states.STATE_COUNTERS:
        expected[states.STATE_COUNTERS[state_a.status]] = 1
    assert totals_a == expected
