"""Faults measured: 502s, dropped connections and slow answers (fakegram --fail-rate).

Policy under test (README, Production): 502s and dropped connections deliver nothing and are
retried with backoff; a send whose answer times out was probably delivered, so it is recorded
as uncertain and not resent. So every reader gets every item, and nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlmodel import Session

from bot import storage
from tests.e2e.botproc import BotProcess
from tests.e2e.harness import Fakegram
from tests.e2e.test_broadcast import EXPECTED, _drop_issue, _received
from tests.e2e.test_instances import _open_quiet_chats, _subscribe, _wait_for_all

pytestmark = pytest.mark.e2e

READERS = 100
FAULTS = ("--fail-rate", "0.05", "--fault-delay", "2", "--rate-scale", "10")


def _outbox(database_url: str) -> dict[storage.DeliveryStatus, int]:
    engine = storage.make_engine(database_url)
    with Session(engine) as session:
        counts = storage.outbox_counts(session)
    engine.dispose()
    return counts


def _wait_until_settled(database_url: str, seconds: float) -> dict[storage.DeliveryStatus, int]:
    """Until no delivery is pending (retries after backoff included)."""
    deadline = time.monotonic() + seconds
    while (counts := _outbox(database_url))[storage.DeliveryStatus.PENDING]:
        assert time.monotonic() < deadline, f"still pending after {seconds} s: {counts}"
        time.sleep(0.2)  # polling interval
    return counts


@pytest.mark.parametrize("fakegram", [FAULTS], indirect=True)
async def test_faults_are_retried_and_timeouts_not_resent(
    fakegram: Fakegram, bot_factory: Callable[..., BotProcess]
) -> None:
    readers = await _open_quiet_chats(fakegram, READERS)
    # A 1 s read timeout turns fakegram's 2 s "delay" fault into a client-side timeout.
    bot = bot_factory(RATE_LIMIT="100", TELEGRAM_READ_TIMEOUT="1")
    bot.start()
    assert "TELEGRAM_READ_TIMEOUT=1 s is under 20 s" in bot.wait_for_log("scan done")
    _subscribe(bot.database_url, readers)
    _drop_issue(bot)
    await _wait_for_all(fakegram, readers, seconds=120)
    counts = _wait_until_settled(bot.database_url, seconds=120)

    stats = await fakegram.stats()
    kinds = stats["faults"]["by_kind"]
    delayed = [f for f in stats["faults"]["events"] if f["kind"] == "delay"]
    print(
        f"faults: {kinds}; deliveries: sent={counts[storage.DeliveryStatus.SENT]} "
        f"uncertain={counts[storage.DeliveryStatus.UNCERTAIN]} "
        f"failed={counts[storage.DeliveryStatus.FAILED]}; "
        f"duplicates reported by fakegram: {stats['duplicates_suspected']}"
    )
    assert sum(kinds.values()) > 0, "no fault was injected; the test proves nothing"
    received = _received(await fakegram.messages())
    for reader in readers:
        assert received[reader] == EXPECTED  # every item, once, in order
    # Every timed-out send is accounted for as uncertain, and each of them was in fact
    # delivered (fakegram's delay fault always delivers): not resending was right.
    assert counts[storage.DeliveryStatus.UNCERTAIN] == len(delayed)
    assert all(f["delivered"] for f in delayed)
    assert counts[storage.DeliveryStatus.FAILED] == 0  # 502s and drops were retried
    assert stats["duplicates_suspected"] == 0  # the policy resends nothing that may have arrived
    log = bot.log()
    assert "send outcome unknown, not resending" in log or not delayed
    # Every fault here was handled, so none pages an operator who alerts on ERROR: one
    # WARNING line each, with a short reason instead of nginx's page and no traceback.
    assert "Traceback" not in log
    assert [line for line in log.splitlines() if " ERROR " in line or " CRITICAL " in line] == []
    if kinds.get("bad_gateway"):
        retried = [line for line in log.splitlines() if "Bad Gateway (502)" in line]
        assert len(retried) == kinds["bad_gateway"]
        assert all(" WARNING " in line and "<html>" not in line for line in retried)
    # The operator's last progress line sums up the whole broadcast, the sends after waiting
    # for a retry's backoff included.
    final = bot.wait_for_log("pending=0 rate=").rpartition("delivery progress ")[2]
    sent, uncertain = counts[storage.DeliveryStatus.SENT], counts[storage.DeliveryStatus.UNCERTAIN]
    assert final.startswith(f"sent={sent} failed=0 uncertain={uncertain} pending=0 rate=")
    bot.stop()
