"""The cluster helpers' behaviour when a connection is lost (the real clusters are exercised
by the sweep and archive-scan tests)."""

from distributed.comm.core import CommClosedError

from uvhunt._core.cluster import save_logs


class LostClient:
    """A client whose scheduler connection closed before the logs were fetched."""

    def get_scheduler_logs(self):
        raise CommClosedError()  # distributed raises it without a message

    def get_worker_logs(self):
        raise AssertionError("not reached")


def test_logs_lost_with_the_cluster_are_said_not_raised(tmp_path):
    assert save_logs(LostClient(), tmp_path / "logs") == ["unavailable.log"]
    said = (tmp_path / "logs" / "unavailable.log").read_text()
    assert "could not be fetched: CommClosedError" in said
