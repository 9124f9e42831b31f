"""The stored operating thresholds (``operating_point.operating_threshold``): every one holds
its rate at 90 % confidence on the sessions it is set on, not only as counted."""

from uvhunt.detection.event_quality import CONFIDENCE, poisson_upper_limit
from uvhunt.detection.operating_point import operating_threshold
from uvhunt.quant.golden import read_export


def test_every_stored_threshold_holds_the_rate_at_its_confidence(exported_golden, session_folder):
    golden, config = read_export(exported_golden)
    # one 1,024-frame session (0.0117 h): 400 per hour at 90 % allows one false event
    # (3.89 / 0.0117 h = 334 per hour); two would be 5.32 / 0.0117 h = 457, over
    rate = 400.0
    operating = operating_threshold(golden, config, [session_folder], rate)
    assert operating["confidence"] == CONFIDENCE == 0.9
    assert operating["hours"] > operating["hours_needed"] == poisson_upper_limit(0, 0.9) / rate
    core = operating["core"]
    assert core["gate_code"] == operating["peak_gate"]["code"]  # the gate's code as alone
    flight = operating["flight"]  # the network beside the stack trigger's three bits
    assert isinstance(flight["score"], int) and "hls/flight_trigger.py" in flight["rule"]
    points = [
        operating["measured"],
        operating["peak_gate"]["measured"],
        core["measured"],
        flight["measured"],
    ]
    for figures in points:
        limit = poisson_upper_limit(figures["false_events"], 0.9) / figures["hours"]
        assert figures["upper_limit_per_hour"] == limit <= rate and figures["held"]
        assert figures["false_events"] <= 1 and figures["events"] > 0
    # the count alone would have allowed 4 false events (4 / 0.0117 h = 343 per hour): the
    # thresholds set at the confidence are at or above those, and the rate on the session
    # at them is at most one event's
    assert max(f["false_events_per_hour"] for f in points) <= 1 / operating["hours"]
