import pytest

from lib.alerts import alert_id, group_id
from lib.errors import ValidationError


def test_ids_are_deterministic_and_readable():
    assert alert_id("db-01", "response_ms", 1234) == "al-db-01-response_ms-1234"
    assert alert_id("db-01", "response_ms", 1234) == alert_id("db-01", "response_ms", 1234)
    assert alert_id("db-01", "response_ms", 1235) != alert_id("db-01", "response_ms", 1234)
    assert group_id("db-01", 77) == "grp-db-01-77"


@pytest.mark.parametrize(
    ("server", "metric", "bucket"), [("", "cpu_pct", 1), ("a", "", 1), ("a", "b", -1)]
)
def test_ids_reject_missing_parts(server, metric, bucket):
    with pytest.raises(ValidationError):
        alert_id(server, metric, bucket)
