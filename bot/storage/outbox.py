"""The outbox: deliveries enqueued once per (chat, issue, message) and drained by the sender."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.storage.models import HEADER_INDEX, Delivery, DeliveryStatus, utcnow

DEFAULT_LEASE = timedelta(seconds=60)
# Parameter sets per executemany call: bounds the memory of one call, nothing else.
_CHUNK = 5000
# Ids per `IN (...)`: well under SQLite's 32,766 parameters.
_ID_CHUNK = 1000
# Rows queued at once that make PostgreSQL's statistics of the outbox stale (see _insert_many).
_ANALYZE_AFTER = 1000
_UNIQUE_KEY = ["chat_id", "issue_id", "message_index"]
_NOTICE_KEY = ["chat_id", "notice_id"]
_NOTICE_ROWS = col(Delivery.notice_id).is_not(None)


def enqueue_deliveries(
    session: Session,
    issue_id: str,
    targets: Mapping[int, Iterable[int]],
    *,
    item_numbers: Sequence[int | None] = (),
    headers: Mapping[int, str] | None = None,
    now: datetime | None = None,
) -> int:
    """Queue message indices of `issue_id` per chat, and before them the chat's own header
    where `headers` has one (Telegram HTML); returns how many rows were new.

    `item_numbers[i]` is the item of message i (None for the header); missing means None.
    A (chat, issue, message) already queued, sent or dropped is left alone, so enqueueing
    twice (a second scan, a restart mid-broadcast) never sends anything twice; a chat's
    header is one such message, at HEADER_INDEX.
    """
    now = now or utcnow()
    row = {"status": DeliveryStatus.PENDING.value, "attempts": 0, "created_at": now}
    rows = [
        {
            **row,
            "chat_id": chat_id,
            "issue_id": issue_id,
            "message_index": HEADER_INDEX,
            "item_number": None,
            "text": text,
        }
        for chat_id, text in (headers or {}).items()
    ]
    rows += [
        {
            **row,
            "chat_id": chat_id,
            "issue_id": issue_id,
            "message_index": index,
            "item_number": item_numbers[index] if index < len(item_numbers) else None,
            "text": None,
        }
        for chat_id, indices in targets.items()
        for index in sorted(set(indices))
    ]
    return _insert_many(session, rows)


def _insert_many(
    session: Session, rows: list[dict[str, Any]], *, key: list[str] = _UNIQUE_KEY, where: Any = None
) -> int:
    """Insert `rows`, skipping those whose `key` exists; returns how many were new.

    No RETURNING and no multi-row VALUES compiled afresh per chunk (11.5 s for 40,000 rows):
    SQLite steps one prepared statement over all rows (executemany), PostgreSQL inserts from
    `unnest` of arrays, one statement per chunk. Either way 40,000 rows take well under 1 s.
    """
    if not rows:
        return 0
    connection = session.connection()
    inserted = 0
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        if connection.dialect.name == "postgresql":
            result = connection.execute(_unnest_insert(key), _as_arrays(chunk))
        else:
            statement = _insert_ignoring_duplicates(session, key=key, where=where)
            result = connection.execute(statement, chunk)
        # sqlite3 sums the rows each parameter set inserted (0 for a conflict).
        inserted += max(0, int(result.rowcount))
    if inserted >= _ANALYZE_AFTER and connection.dialect.name == "postgresql":
        # An outbox holding a year of sent rows has statistics saying nothing is pending, and
        # a broadcast is too small a share of it for autovacuum to count again. The planner
        # then checks each claimed row's chat head along the wrong index, reading every
        # pending row: 1.3 s per claim at 5 M rows, against 4 ms (bench_outbox --history).
        # ANALYZE samples a fixed number of rows (this transaction's own included) and takes
        # no lock that writers wait for. It waits for another ANALYZE (autovacuum's yields
        # within a second); skipping would leave these rows uncounted, as no other sees them.
        connection.execute(text("ANALYZE deliveries"))
    return inserted


_COLUMNS = ("chat_id", "issue_id", "notice_id", "message_index", "item_number", "text")
_ARRAY_TYPES = ("BIGINT[]", "VARCHAR[]", "INTEGER[]", "INTEGER[]", "INTEGER[]", "TEXT[]")


def _unnest_insert(key: list[str]) -> Any:
    arrays = ", ".join(f"CAST(:{c} AS {t})" for c, t in zip(_COLUMNS, _ARRAY_TYPES, strict=True))
    target = (
        "(chat_id, notice_id) WHERE notice_id IS NOT NULL"
        if key == _NOTICE_KEY
        else ("(chat_id, issue_id, message_index)")
    )
    return text(
        f"INSERT INTO deliveries ({', '.join(_COLUMNS)}, status, attempts, created_at) "
        f"SELECT *, :status, 0, :created_at FROM unnest({arrays}) "
        f"ON CONFLICT {target} DO NOTHING"
    )


def _as_arrays(rows: list[dict[str, Any]]) -> dict[str, Any]:
    arrays: dict[str, Any] = {c: [row.get(c) for row in rows] for c in _COLUMNS}
    arrays["status"] = DeliveryStatus.PENDING.value
    arrays["created_at"] = rows[0]["created_at"]
    return arrays


def _insert_ignoring_duplicates(session: Session, *, key: list[str], where: Any) -> Any:
    dialect = session.get_bind().dialect.name
    table: Any = Delivery.__table__  # Core, not ORM bulk insert: plain executemany
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=key, index_where=where)
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(
            index_elements=key, index_where=where
        )
    raise NotImplementedError(f"the outbox supports SQLite and PostgreSQL, not {dialect}")


def claim_pending(
    session: Session,
    limit: int = 100,
    *,
    lease: timedelta = DEFAULT_LEASE,
    now: datetime | None = None,
) -> list[Delivery]:
    """Claim the next message of up to `limit` chats, interleaved: notices, then messages
    readers asked for, then the oldest issue's first messages across chats.

    Only each chat's head (its first pending message, see _head_of_chat) is eligible, so a
    chat's messages go out in order and one slow chat never holds back the others. A claimed
    row is leased: it is not handed out again for `lease` unless marked first, so a sender
    that dies mid-send leaves its rows to be claimed again after the lease.
    While a chat's head is leased or waiting for a retry, nothing else of that chat is.
    `attempts` counts claims.

    Cost: pending rows are walked in claim order along ix_deliveries_pending_order and each
    candidate is checked for being its chat's head along ix_deliveries_status_chat, so a claim
    reads about `limit` plus the leased rows, not every pending row.
    """
    now = now or utcnow()
    if session.get_bind().dialect.name == "postgresql":
        _plan_claims_by_index(session)
    claimed: list[Delivery] = []
    of_issue, requested = col(Delivery.issue_id).is_not(None), col(Delivery.requested)
    # Notices (no issue) first: an admin's announcement overtakes a long broadcast. Then what
    # readers asked for: an answer must not wait for every subscriber's copy of a broadcast.
    # The passes take disjoint rows, as nothing is leased before the end.
    kinds = (~of_issue, and_(of_issue, requested), and_(of_issue, ~requested))
    for kind in kinds:
        if len(claimed) >= limit:
            break
        claimed += session.exec(
            select(Delivery)
            .where(
                col(Delivery.status) == DeliveryStatus.PENDING.value,
                kind,
                or_(col(Delivery.not_before).is_(None), col(Delivery.not_before) <= now),
                col(Delivery.id) == _HEAD_OF_CHAT,
            )
            # Index order (message_index is 0 for every notice; their order per chat is the
            # head check's business), so the scan stops after `limit` heads.
            .order_by(col(Delivery.issue_id), col(Delivery.message_index), col(Delivery.chat_id))
            .limit(limit - len(claimed))
            # PostgreSQL: concurrent claimers skip each other's rows instead of waiting.
            .with_for_update(skip_locked=True)
        ).all()
    if claimed:
        # One UPDATE for the batch, not one per row from the ORM's flush; the ORM applies
        # the same values to the loaded objects (synchronize_session "evaluate").
        session.exec(
            update(Delivery)
            .where(col(Delivery.id).in_([d.id for d in claimed]))
            .values(not_before=now + lease, attempts=col(Delivery.attempts) + 1)
            .execution_options(synchronize_session="evaluate")
        )
    return claimed


def _plan_claims_by_index(session: Session) -> None:
    """Walk the claim-order index on PostgreSQL, whatever the statistics say (this transaction
    only). Right after a broadcast is enqueued the table's statistics still describe it
    nearly empty, and the planner then sorts every pending row (and runs the head check on
    each: 170 ms at 40,000 rows, against 2 ms along the index); and the head check's cost
    estimate is high enough to trigger JIT compilation, which alone takes ~190 ms."""
    for setting in ("jit", "enable_sort", "enable_bitmapscan"):
        session.exec(text(f"SET LOCAL {setting} = off"))


def _head_of_chat() -> Any:
    """The id of the outer row's chat's first pending delivery (a correlated subquery).

    Notices and what the chat's readers asked for come before a broadcast's messages; then
    copies go in the order they were queued, so two copies never interleave (a reader asking
    for three issues gets each whole, in that order); a copy's messages go in order.
    """
    head = aliased(Delivery, name="head")
    broadcast = and_(col(head.notice_id).is_(None), ~col(head.requested))
    return (
        select(head.id)
        .where(
            col(head.status) == DeliveryStatus.PENDING.value,
            col(head.chat_id) == col(Delivery.chat_id),
        )
        .order_by(
            case((broadcast, 1), else_=0),
            head.created_at,
            func.coalesce(head.issue_id, ""),
            head.notice_id,
            head.message_index,
        )
        .limit(1)
        .correlate(Delivery)
        .scalar_subquery()
    )


_HEAD_OF_CHAT = _head_of_chat()


def mark_sent(session: Session, delivery_id: int, *, now: datetime | None = None) -> None:
    _set(session, delivery_id, status=DeliveryStatus.SENT, sent_at=now or utcnow(), not_before=None)


def mark_sent_many(
    session: Session, delivery_ids: Sequence[int], *, now: datetime | None = None
) -> int:
    """`mark_sent` for many rows in one UPDATE per chunk (the sender writes outcomes in
    batches); returns how many rows changed. Unknown ids are skipped, not an error."""
    changed = 0
    for start in range(0, len(delivery_ids), _ID_CHUNK):
        result = session.exec(
            update(Delivery)
            .where(col(Delivery.id).in_(delivery_ids[start : start + _ID_CHUNK]))
            .values(status=DeliveryStatus.SENT.value, sent_at=now or utcnow(), not_before=None)
        )
        changed += int(result.rowcount)
    session.flush()
    return changed


def mark_failed(
    session: Session,
    delivery_id: int,
    error: str,
    *,
    retry_at: datetime | None = None,
) -> None:
    """Record `error`; with `retry_at` the row stays pending until then, else it ends as failed.
    A row dropped while its send was in flight (the chat unsubscribed) stays dropped."""
    if retry_at is not None:
        _set(
            session,
            delivery_id,
            col(Delivery.status) == DeliveryStatus.PENDING.value,
            status=DeliveryStatus.PENDING,
            last_error=error,
            not_before=retry_at,
        )
    else:
        _set(session, delivery_id, status=DeliveryStatus.FAILED, last_error=error, not_before=None)


def mark_uncertain(session: Session, delivery_id: int, error: str) -> None:
    """The send's outcome is unknown (it timed out once sent): settle it, never resend it."""
    _set(session, delivery_id, status=DeliveryStatus.UNCERTAIN, last_error=error, not_before=None)


def drop_pending_for_chat(session: Session, chat_id: int, reason: str) -> int:
    """Give up every pending delivery of the chat with `reason`; returns how many."""
    return drop_pending(session, reason, col(Delivery.chat_id) == chat_id)


def drop_pending(session: Session, reason: str, *where: Any) -> int:
    """Give up the pending deliveries that meet `where` with `reason`; returns how many."""
    result = session.exec(
        update(Delivery)
        .where(col(Delivery.status) == DeliveryStatus.PENDING.value, *where)
        .values(status=DeliveryStatus.DROPPED.value, last_error=reason, not_before=None)
    )
    session.flush()
    return int(result.rowcount)


def issue_posted_at(session: Session, chat_id: int, issue_id: str) -> datetime | None:
    """When the issue in full was last sent to the chat: its own header (message 0), which
    only whole-issue readers and requests get. None if never, or if some of the rest will
    not come (failed, or dropped with a narrowed subscription): the issue is not there in full.
    """
    mine = (col(Delivery.chat_id) == chat_id, col(Delivery.issue_id) == issue_id)
    missing = select(Delivery.id).where(
        *mine,
        col(Delivery.message_index) > 0,
        col(Delivery.status).in_([DeliveryStatus.FAILED.value, DeliveryStatus.DROPPED.value]),
    )
    statement = select(func.max(Delivery.sent_at)).where(
        *mine,
        col(Delivery.message_index) == 0,
        col(Delivery.status) == DeliveryStatus.SENT.value,
        ~missing.exists(),
    )
    posted: datetime | None = session.exec(statement).one()
    return posted


def resumes_copy(session: Session, chat_id: int, issue_id: str, indices: Iterable[int]) -> bool:
    """Whether asking for these messages again would go on with a copy of them part way to
    the chat (some arrived, the rest queued in order) rather than start another; see
    `requeue_deliveries`."""
    wanted = sorted(set(indices))
    return (_resumed_from(session, chat_id, issue_id, wanted) or 0) > 0


def outbox_counts(session: Session, issue_id: str | None = None) -> dict[DeliveryStatus, int]:
    """Deliveries by status, for one issue or all."""
    statement = select(Delivery.status, func.count()).group_by(col(Delivery.status))
    if issue_id is not None:
        statement = statement.where(col(Delivery.issue_id) == issue_id)
    counts = dict.fromkeys(DeliveryStatus, 0)
    for status, count in session.exec(statement).all():
        counts[DeliveryStatus(status)] = count
    return counts


def pending_count(session: Session, issue_id: str | None = None) -> int:
    """Deliveries still to send (of one issue, if given), as a broadcast's progress line and
    /push report them: a range of the status index, where outbox_counts walks the whole
    outbox, which keeps every delivery ever made."""
    statement = select(func.count()).where(col(Delivery.status) == DeliveryStatus.PENDING.value)
    if issue_id is not None:
        statement = statement.where(col(Delivery.issue_id) == issue_id)
    return session.exec(statement).one()


def chats_receiving(session: Session, issue_id: str) -> set[int]:
    """Chats with messages of the issue still to come: its broadcast has not reached them all."""
    return _chats_with(session, issue_id, DeliveryStatus.PENDING)


def chats_reached(session: Session, issue_id: str) -> set[int]:
    """Chats that at least one message of the issue was sent to."""
    return _chats_with(session, issue_id, DeliveryStatus.SENT)


def _chats_with(session: Session, issue_id: str, status: DeliveryStatus) -> set[int]:
    statement = select(Delivery.chat_id).where(
        col(Delivery.issue_id) == issue_id, col(Delivery.status) == status.value
    )
    return set(session.exec(statement.distinct()).all())


def _set(session: Session, delivery_id: int, *only_if: Any, **values: Any) -> None:
    """Update one row (if it meets `only_if`); KeyError when there is no such row."""
    values = {k: v.value if isinstance(v, DeliveryStatus) else v for k, v in values.items()}
    result = session.exec(
        update(Delivery).where(col(Delivery.id) == delivery_id, *only_if).values(**values)
    )
    if result.rowcount == 0 and session.get(Delivery, delivery_id) is None:
        raise KeyError(delivery_id)
    session.flush()


def enqueue_notice(session: Session, notice_id: int, chat_ids: Iterable[int]) -> int:
    """Queue a notice for each chat (once per chat); returns how many rows were new."""
    now = utcnow()
    rows = [
        {
            "chat_id": chat_id,
            "notice_id": notice_id,
            "message_index": 0,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
        }
        for chat_id in sorted(set(chat_ids))
    ]
    return _insert_many(session, rows, key=_NOTICE_KEY, where=_NOTICE_ROWS)


def move_deliveries(
    session: Session,
    issue_id: str,
    moves: Mapping[int, int | None],
    added: Mapping[int, Sequence[int]],
    *,
    item_numbers: Sequence[int | None] = (),
) -> int:
    """Follow an issue's new version (bot.content.messages.message_moves and new_parts).

    Each row moves to its message's new place, sent ones too, so a later /push still knows
    what a chat has; rows of messages that are gone are deleted, and so is a keyword chat's
    header still pending before nothing; a chat with a pending row among a new part's
    siblings is due that part as well. Returns how many rows were deleted.
    """
    of_issue = col(Delivery.issue_id) == issue_id
    index = col(Delivery.message_index)
    kept = [old for old, new in moves.items() if new is not None]
    gone = session.exec(
        delete(Delivery).where(of_issue, index != HEADER_INDEX, index.not_in(kept))
    ).rowcount
    gone += delete_lone_headers(session, issue_id)
    moved = {old: new for old, new in moves.items() if new is not None and new != old}
    if moved:
        # Through places below the header's, so no two rows ever share (chat, issue, place)
        # on the way.
        below = HEADER_INDEX - 1
        session.exec(
            update(Delivery)
            .where(of_issue, index.in_(moved))
            .values(message_index=below - case(moved, value=index))
        )
        session.exec(
            update(Delivery).where(of_issue, index <= below).values(message_index=below - index)
        )
    for part, siblings in added.items():
        due = session.exec(
            select(Delivery.chat_id).where(
                of_issue,
                col(Delivery.message_index).in_(siblings),
                col(Delivery.status) == DeliveryStatus.PENDING.value,
            )
        ).all()
        enqueue_deliveries(
            session, issue_id, {chat: [part] for chat in due}, item_numbers=item_numbers
        )
    session.flush()
    return gone


def _lone_header() -> Any:
    """A pending header whose chat has no pending message of its issue left to introduce."""
    other = aliased(Delivery, name="other")
    introduced = (
        select(other.id)
        .where(
            col(other.chat_id) == col(Delivery.chat_id),
            col(other.issue_id) == col(Delivery.issue_id),
            col(other.message_index) != HEADER_INDEX,
            col(other.status) == DeliveryStatus.PENDING.value,
        )
        .correlate(Delivery)
        .exists()
    )
    return and_(
        col(Delivery.message_index) == HEADER_INDEX,
        col(Delivery.status) == DeliveryStatus.PENDING.value,
        ~introduced,
    )


LONE_HEADER = _lone_header()


def delete_lone_headers(session: Session, issue_id: str) -> int:
    """Delete the issue's pending keyword headers that introduce nothing (their items were
    sent before, or left the issue); returns how many."""
    lone = delete(Delivery).where(col(Delivery.issue_id) == issue_id, LONE_HEADER)
    return int(session.exec(lone).rowcount)


def pending_headers(
    session: Session, issue_id: str, *, chat_id: int | None = None
) -> dict[int, tuple[str, set[int]]]:
    """Chats (or the one chat) whose keyword header of the issue is still to be sent: its
    text, and the items of the issue queued for the chat after it."""
    header = aliased(Delivery, name="header")
    only = [col(header.chat_id) == chat_id] if chat_id is not None else []
    rows = session.exec(
        select(header.chat_id, header.text, Delivery.item_number)
        .join(
            Delivery,
            and_(
                col(Delivery.chat_id) == col(header.chat_id),
                col(Delivery.issue_id) == col(header.issue_id),
                col(Delivery.item_number).is_not(None),
                col(Delivery.status) == DeliveryStatus.PENDING.value,
            ),
            isouter=True,
        )
        .where(
            col(header.issue_id) == issue_id,
            col(header.message_index) == HEADER_INDEX,
            col(header.status) == DeliveryStatus.PENDING.value,
            *only,
        )
    ).all()
    found: dict[int, tuple[str, set[int]]] = {}
    for chat_id, header_text, item_number in rows:
        _, numbers = found.setdefault(chat_id, (header_text or "", set()))
        if item_number is not None:
            numbers.add(item_number)
    return found


def issues_with_pending_header(session: Session, chat_id: int) -> list[str]:
    """The issues whose keyword header for the chat is still to be sent."""
    statement = select(Delivery.issue_id).where(
        col(Delivery.chat_id) == chat_id,
        col(Delivery.message_index) == HEADER_INDEX,
        col(Delivery.status) == DeliveryStatus.PENDING.value,
    )
    return sorted({issue_id for issue_id in session.exec(statement) if issue_id is not None})


def delete_headers(session: Session, issue_id: str, chat_ids: Sequence[int]) -> int:
    """Delete the chats' keyword headers of the issue still to be sent; returns how many."""
    deleted = 0
    for start in range(0, len(chat_ids), _ID_CHUNK):
        result = session.exec(
            delete(Delivery).where(
                col(Delivery.issue_id) == issue_id,
                col(Delivery.chat_id).in_(chat_ids[start : start + _ID_CHUNK]),
                col(Delivery.message_index) == HEADER_INDEX,
                col(Delivery.status) == DeliveryStatus.PENDING.value,
            )
        )
        deleted += int(result.rowcount)
    return deleted


def reword_headers(session: Session, issue_id: str, texts: Mapping[int, str]) -> int:
    """Give chats' pending keyword headers of the issue new texts; returns how many changed."""
    if not texts:
        return 0
    statement = (
        update(Delivery)
        .where(
            col(Delivery.issue_id) == issue_id,
            col(Delivery.chat_id) == bindparam("chat"),
            col(Delivery.message_index) == HEADER_INDEX,
            col(Delivery.status) == DeliveryStatus.PENDING.value,
        )
        .values(text=bindparam("new_text"))
        .execution_options(synchronize_session=False)
    )
    rows = [{"chat": chat_id, "new_text": new} for chat_id, new in texts.items()]
    changed = 0
    for start in range(0, len(rows), _CHUNK):
        result = session.connection().execute(statement, rows[start : start + _CHUNK])
        changed += max(0, int(result.rowcount))
    return changed


# Why a keyword header still queued was dropped: the reader asked for the whole issue.
WHOLE_ISSUE_ASKED = "whole issue asked for"


def requeue_deliveries(
    session: Session,
    chat_id: int,
    issue_id: str,
    indices: Iterable[int],
    *,
    item_numbers: Sequence[int | None] = (),
) -> int:
    """Queue messages for one chat again, even those sent before (a reader asked for them);
    returns how many of them are now on their way.

    Rows already pending are left as they are (they are on their way); the others become
    pending again. Except while a copy of these very messages is half way to the chat (sent
    up to a point, pending from there on, as a reader asking twice in a row causes): then that
    copy goes on, and sending its start again would put a second header in the middle of it.
    A keyword header still queued for the chat is dropped when the whole issue is asked for
    (index 0, its own header, among `indices`): it would arrive after the issue, introducing
    nothing.
    """
    wanted = sorted(set(indices))
    # One time for the whole copy, new rows and rows queued again: the chat's queue goes by it.
    now = utcnow()
    of_chat = (col(Delivery.chat_id) == chat_id, col(Delivery.issue_id) == issue_id)
    mine = (*of_chat, col(Delivery.message_index).in_(wanted))
    resumed = _resumed_from(session, chat_id, issue_id, wanted)
    # A copy part way here goes on: the rest is flagged, not resent.
    again = wanted if resumed is None else [index for index in wanted if index >= resumed]
    enqueue_deliveries(session, issue_id, {chat_id: again}, item_numbers=item_numbers, now=now)
    if 0 in wanted:  # the whole issue, its own header first: a keyword header would come last
        drop_pending(
            session, WHOLE_ISSUE_ASKED, *of_chat, col(Delivery.message_index) == HEADER_INDEX
        )
    asked = (*mine, col(Delivery.message_index).in_(again))
    session.exec(
        update(Delivery)
        .where(*asked, col(Delivery.status) != DeliveryStatus.PENDING.value)
        .values(
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            last_error=None,
            not_before=None,
            sent_at=None,
        )
    )
    # Claimed first, and in the chat after what its readers asked for before.
    session.exec(update(Delivery).where(*asked).values(requested=True, created_at=now))
    session.flush()
    queued = select(func.count()).where(*mine, col(Delivery.status) == DeliveryStatus.PENDING.value)
    return int(session.exec(queued).one())


def _resumed_from(
    session: Session, chat_id: int, issue_id: str, wanted: Sequence[int]
) -> int | None:
    """Where a copy of `wanted` part way to the chat goes on from (its first pending
    message), or None when there is no such copy to go on with."""
    statuses = dict(
        session.exec(
            select(Delivery.message_index, Delivery.status).where(
                col(Delivery.chat_id) == chat_id,
                col(Delivery.issue_id) == issue_id,
                col(Delivery.message_index).in_(wanted),
            )
        ).all()
    )
    pending = [index for index in wanted if statuses.get(index) == DeliveryStatus.PENDING]
    if pending and _half_way(wanted, statuses, pending[0]):
        return pending[0]
    return None


def _half_way(wanted: Sequence[int], statuses: Mapping[int, str], first_pending: int) -> bool:
    """Whether the chat is part way through these messages in order: all sent before the
    first pending one, none sent after it."""
    sent = DeliveryStatus.SENT
    return all(statuses.get(i) == sent for i in wanted if i < first_pending) and not any(
        statuses.get(i) == sent for i in wanted if i > first_pending
    )


def release_leases(session: Session) -> int:
    """Make every pending delivery claimable now, so a sender resumes what a stopped one had
    claimed without waiting for the leases to run out. Only the elected sender may call this
    (bot.storage.leader): it alone claims, so no lease it releases belongs to a live sender."""
    result = session.exec(
        update(Delivery)
        .where(
            col(Delivery.status) == DeliveryStatus.PENDING.value,
            col(Delivery.not_before).is_not(None),
        )
        .values(not_before=None)
    )
    session.flush()
    return int(result.rowcount)


def release_lease(session: Session, delivery_id: int, not_before: datetime | None) -> None:
    """Hand a claimed delivery back unsent, to be claimed again from `not_before` on."""
    _set(session, delivery_id, not_before=not_before, attempts=Delivery.attempts - 1)
