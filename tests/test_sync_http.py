"""The retrying JSON client against a real HTTP server with injected faults, and the pager."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from data_sources.sync.http import (
    AuthError,
    HttpStatusError,
    InvalidJsonError,
    JsonClient,
    Page,
    RetriesExhaustedError,
    RetryPolicy,
    SyncError,
    parse_json_lenient,
    parse_retry_after,
    repair_leading_zero_numbers,
    walk_pages,
)
from tests.http_fixture import FaultServer, Reply

FAST = RetryPolicy(timeout_seconds=0.5, max_retries=3, backoff_seconds=0.01)
DOC = {"data": [{"tracking_id": "1"}], "next_page": None}


def ok_app(request):
    return Reply(body=DOC)


@pytest.fixture
def server():
    with FaultServer(ok_app) as s:
        yield s


def client(policy: RetryPolicy = FAST, **kwargs) -> JsonClient:
    return JsonClient(policy, **kwargs)


def test_json_page_is_parsed_in_one_attempt(server):
    response = client().get_json(f"{server.url}/complaints", {"page": 1})
    assert response.data == DOC
    assert response.attempts == 1
    assert server.requests[0].params == {"page": "1"}


def test_500_is_retried_then_succeeds(server):
    server.inject(Reply(status=500, body={"message": "boom"}), times=2)
    response = client().get_json(f"{server.url}/complaints")
    assert response.data == DOC
    assert response.attempts == 3


def test_429_honours_retry_after_seconds(server):
    server.inject(Reply(status=429, headers={"Retry-After": "1"}))
    started = time.monotonic()
    response = client().get_json(f"{server.url}/complaints")
    assert response.data == DOC
    gap = server.requests[1].at - server.requests[0].at
    assert gap >= 0.95, f"second request only {gap:.3f} s after the 429"
    assert time.monotonic() - started < 5


def test_hanging_response_times_out_and_is_retried(server):
    server.inject(Reply(body=DOC, delay=1.5))
    started = time.monotonic()
    response = client(RetryPolicy(timeout_seconds=0.3, max_retries=2, backoff_seconds=0.01)).get_json(
        f"{server.url}/complaints"
    )
    elapsed = time.monotonic() - started
    assert response.data == DOC and response.attempts == 2
    assert elapsed < 1.45, f"the hanging call was not cut at the timeout ({elapsed:.2f} s)"


def test_hanging_on_every_attempt_fails_with_timeout_message(server):
    server.inject(Reply(body=DOC, delay=1.0), times=3)
    policy = RetryPolicy(timeout_seconds=0.2, max_retries=2, backoff_seconds=0.01)
    with pytest.raises(RetriesExhaustedError, match="timeout"):
        client(policy).get_json(f"{server.url}/complaints", label="page 4")


def test_truncated_json_page_is_retried(server):
    server.inject(Reply(body=DOC, truncate_to=15))
    response = client().get_json(f"{server.url}/complaints")
    assert response.data == DOC and response.attempts == 2


def test_connection_cut_before_declared_length_is_retried(server):
    server.inject(Reply(body=DOC, truncate_to=15, short_body=True))
    response = client().get_json(f"{server.url}/complaints")
    assert response.data == DOC and response.attempts == 2


def test_page_invalid_on_every_attempt_fails_naming_the_page(server):
    server.inject(Reply(body="<html>maintenance</html>"), times=10)
    with pytest.raises(InvalidJsonError) as info:
        client().get_json(f"{server.url}/complaints", {"page": 7}, label="page 7")
    assert "page 7" in str(info.value)
    assert len(server.requests) == FAST.max_retries + 1


def test_401_stops_at_once_with_the_server_message(server):
    server.inject(Reply(status=401, body={"message": "Token expired"}))
    with pytest.raises(AuthError) as info:
        client().get_json(f"{server.url}/complaints", label="page 1")
    assert "401" in str(info.value) and "Token expired" in str(info.value)
    assert len(server.requests) == 1


def test_403_stops_at_once(server):
    server.inject(Reply(status=403, body=[{"code": 403, "description": "Invalid api_key"}]))
    with pytest.raises(AuthError, match="Invalid api_key"):
        client().get_json(f"{server.url}/requests.json")
    assert len(server.requests) == 1


def test_other_4xx_is_not_retried(server):
    server.inject(Reply(status=404, body={"error": "no such endpoint"}))
    with pytest.raises(HttpStatusError, match="no such endpoint"):
        client().get_json(f"{server.url}/nope")
    assert len(server.requests) == 1


def test_exhausted_retries_name_the_page_and_mask_secret_parameters(server):
    server.inject(Reply(status=503), times=10)
    with pytest.raises(RetriesExhaustedError) as info:
        client(secret_params=("api_key",)).get_json(
            f"{server.url}/requests.json", {"page": 3, "api_key": "s3cret"}, label="page 3"
        )
    message = str(info.value)
    assert "page 3" in message and "HTTP 503" in message
    assert "s3cret" not in message and "api_key=%2A%2A%2A" in message


def test_backoff_doubles_between_retries_and_is_capped():
    policy = RetryPolicy(backoff_seconds=1, max_backoff_seconds=5)
    assert [policy.backoff(i) for i in range(5)] == [1, 2, 4, 5, 5]


def test_waits_follow_the_backoff_and_retry_after(server):
    waits: list[float] = []
    server.inject(Reply(status=500), times=2)
    server.inject(Reply(status=429, headers={"Retry-After": "7"}))
    policy = RetryPolicy(timeout_seconds=0.5, max_retries=4, backoff_seconds=0.5)
    client(policy, sleep=waits.append).get_json(f"{server.url}/complaints")
    assert waits == [0.5, 1.0, 7.0]


def test_retry_after_is_capped(server):
    waits: list[float] = []
    server.inject(Reply(status=429, headers={"Retry-After": "86400"}))
    policy = RetryPolicy(timeout_seconds=0.5, backoff_seconds=0.01, max_retry_after_seconds=30)
    client(policy, sleep=waits.append).get_json(f"{server.url}/complaints")
    assert waits == [30]


def test_retry_after_accepts_an_http_date():
    now = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(42)
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None


def test_leading_zero_numbers_are_repaired_as_text():
    body = b'[{"service_code":006,"lat":41.8,"n":0,"neg":-01.5,"note":"code 007 stays"}]'
    data, repaired = parse_json_lenient(body)
    assert repaired
    assert data == [{"service_code": "006", "lat": 41.8, "n": 0, "neg": "-01.5", "note": "code 007 stays"}]


def test_repair_leaves_strings_with_escaped_quotes_alone():
    text = r'{"a":"say \"007\"","b":08}'
    assert repair_leading_zero_numbers(text) == r'{"a":"say \"007\"","b":"08"}'


def test_valid_json_is_not_marked_repaired():
    assert parse_json_lenient(b'{"a": 0.5}') == ({"a": 0.5}, False)


def test_leading_zero_page_from_server_is_accepted(server):
    server.inject(Reply(body='[{"service_request_id":"1","service_code":006}]'))
    response = client().get_json(f"{server.url}/requests.json")
    assert response.repaired and response.data[0]["service_code"] == "006"


def test_unreachable_server_fails_after_retries():
    # a port nothing listens on: connection refused on every attempt
    with FaultServer(ok_app) as s:
        url = s.url
    with pytest.raises(RetriesExhaustedError, match="connection error"):
        client(RetryPolicy(timeout_seconds=0.3, max_retries=1, backoff_seconds=0.01)).get_json(url)


# --- the pager --------------------------------------------------------------------------


def pages_from(script: dict[int, list]) -> tuple[list[int], callable]:
    """A fetch function over scripted pages; each page number maps to a list of answers."""
    calls: list[int] = []

    def fetch(n: int) -> Page:
        calls.append(n)
        answers = script.get(n, [[]])
        records = answers.pop(0) if len(answers) > 1 else answers[0]
        return Page(n, records, f"page {n}", next_page=n + 1)

    return calls, fetch


def test_pager_stops_at_an_empty_page():
    calls, fetch = pages_from({1: [[1, 2]], 2: [[3]]})
    assert [p.records for p in walk_pages(fetch, 1)] == [[1, 2], [3], []]
    assert calls == [1, 2, 3]


def test_pager_refetches_a_repeated_page_once():
    calls, fetch = pages_from({1: [[1, 2]], 2: [[1, 2], [3, 4]]})
    assert [p.records for p in walk_pages(fetch, 1)] == [[1, 2], [3, 4], []]
    assert calls == [1, 2, 2, 3]


def test_pager_stops_when_a_page_keeps_repeating_the_previous():
    warnings: list[str] = []
    calls, fetch = pages_from({n: [[1, 2]] for n in range(1, 100)})
    assert [p.records for p in walk_pages(fetch, 1, warn=warnings.append)] == [[1, 2]]
    assert calls == [1, 2, 2]
    assert "repeats the previous page" in warnings[0]


def test_pager_stops_when_next_page_points_back():
    warnings: list[str] = []

    def fetch(n: int) -> Page:
        return Page(n, [n], f"page {n}", next_page=2 if n == 1 else 1)

    assert [p.number for p in walk_pages(fetch, 1, warn=warnings.append)] == [1, 2]
    assert "already fetched" in warnings[0]


def test_pager_gives_up_past_max_pages():
    def fetch(n: int) -> Page:
        return Page(n, [n], f"page {n}", next_page=n + 1)

    with pytest.raises(SyncError, match="more than 5 pages"):
        list(walk_pages(fetch, 1, max_pages=5))
