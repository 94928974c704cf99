"""Build the python-telegram-bot Application: handlers, jobs, the sender, and their lifecycle."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.engine import Engine
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ContextTypes, Defaults

from bot.config import Settings, WebhookSettings
from bot.delivery.limiter import PacerRateLimiter
from bot.delivery.pacing import Pacer
from bot.delivery.send import is_network_fault
from bot.delivery.sender import Sender, in_flight_limit
from bot.handlers.admin import tell_editors
from bot.handlers.views import plain_scan_text
from bot.ingest import ScanReport, publish_pending
from bot.logs import error_summary
from bot.services import Services
from bot.storage.faults import log_database_failure

log = logging.getLogger(__name__)

SERVICES = "services"
# Sends leave on evenly spaced slots, but arrive with a few milliseconds of jitter, and a
# second of arrivals could then hold RATE_LIMIT + 1: pace a little below the limit.
PACING_HEADROOM = 0.95
REPLY_CONNECTIONS = 16  # HTTP connections beyond the sender's, for replies and other calls
CONCURRENT_UPDATES = 64  # updates handled at once
# setWebhook may answer 429 when several instances start together; PTB waits and retries.
WEBHOOK_BOOTSTRAP_RETRIES = 5
MIN_READ_TIMEOUT = 20.0  # SPEC §4: read timeouts of at least 20 s


def build_application(settings: Settings, engine: Engine) -> Application:  # type: ignore[type-arg]
    """The bot, ready for `run_polling`: nothing is contacted until it starts."""
    from bot.handlers import register_handlers

    pacer = Pacer(rate=settings.rate_limit * PACING_HEADROOM)
    # TELEGRAM_READ_TIMEOUT, SPEC §4: long, so a slow answer is rarely taken for a lost one.
    timeout = settings.telegram_read_timeout
    if timeout < MIN_READ_TIMEOUT:  # allowed (tests provoke timeouts so), but worth a word
        log.warning(
            "TELEGRAM_READ_TIMEOUT=%g s is under %g s: a slow answer from Telegram will count "
            "as lost, and such sends are not resent",
            timeout,
            MIN_READ_TIMEOUT,
        )
    builder = (
        Application.builder()
        .application_class(_BotApplication)
        .token(settings.require_bot_token())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_file_url)
        # The sender's sends in flight, plus room for replies and the rest. No wider: httpcore
        # scans every connection and waiting request on each event, so a pool of hundreds
        # costs more CPU than the sends themselves (BENCHMARKS.md, broadcast).
        .connection_pool_size(in_flight_limit(pacer.rate) + REPLY_CONNECTIONS)
        .read_timeout(timeout)
        .write_timeout(timeout)
        .media_write_timeout(timeout)
        .connect_timeout(10.0)
        .pool_timeout(timeout)
        .rate_limiter(PacerRateLimiter(pacer))
        # A reply waits for its pacer slot behind a broadcast's sends; one waiting reply must
        # not hold up the next update. Safe: no handler awaits Telegram with a session open.
        .concurrent_updates(CONCURRENT_UPDATES)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .post_init(_start)
        .post_stop(_stop)
        # PTB skips post_stop when the start fails after post_init (setWebhook refused, the
        # port taken): the sender started there must still stop, or its tasks are destroyed
        # pending, with ERROR lines and a traceback after the one error line.
        .post_shutdown(_stop)
    )
    application = builder.build()
    application.bot_data["settings"] = settings
    application.bot_data["engine"] = engine
    application.bot_data["pacer"] = pacer
    register_handlers(application)
    return application


async def _start(application: Application) -> None:  # type: ignore[type-arg]
    """Wire the services, announce the commands, start the sender and the scheduled jobs."""
    from bot.handlers import set_commands

    settings: Settings = application.bot_data["settings"]
    jobs = application.job_queue
    assert jobs is not None  # installed with the job-queue extra

    def scan_now() -> None:
        # Scans run on the sending instance only: its first one, at start or on taking over
        # from a dead sender, is due now, not a whole SCAN_INTERVAL later. Never "missed": at
        # start the election may come before the job queue runs (setWebhook retrying a 429),
        # past APScheduler's default second of grace.
        jobs.run_once(
            _scan_job,
            when=0.0,
            name="scan on election",
            job_kwargs={"misfire_grace_time": None},
        )

    sender = Sender(
        application.bot,
        application.bot_data["engine"],
        application.bot_data["pacer"],
        on_elected=scan_now,
    )
    services = Services(settings=settings, engine=application.bot_data["engine"], sender=sender)
    application.bot_data[SERVICES] = services

    try:
        await set_commands(application.bot)
    except Exception as error:  # the menu is a nicety; never refuse to start over it
        if is_network_fault(error):  # set again at the next start
            log.warning("setting the command menu failed: %s", error_summary(error))
        else:
            log.exception("setting the command menu failed")
    application.bot_data["sender_task"] = asyncio.create_task(sender.run(), name="sender")

    jobs.run_repeating(_scan_job, interval=settings.scan_interval, name="scan")
    trigger = settings.publish_trigger()
    if trigger is not None:
        jobs.run_custom(_publish_job, job_kwargs={"trigger": trigger}, name="publish")
    log.info(
        "bot started username=%s scan_interval=%.0fs rate_limit=%.0f/s publish=%s",
        application.bot.username,
        settings.scan_interval,
        settings.rate_limit,
        settings.publish_cron or "at once",
    )


class _BotApplication(Application):  # type: ignore[type-arg]
    async def stop(self) -> None:
        # First of all: PTB then waits for the handlers and jobs under way, and a reply or
        # send waiting out a pause after a 429 (up to a minute) would hold the shutdown up.
        limiter = self.bot.rate_limiter
        if isinstance(limiter, PacerRateLimiter):
            limiter.abandon_waiting()
        await super().stop()


async def _stop(application: Application) -> None:  # type: ignore[type-arg]
    """Stop the sender; once only (post_stop, then post_shutdown), and not before it ran."""
    task = application.bot_data.pop("sender_task", None)
    if task is None:
        return
    services: Services = application.bot_data[SERVICES]
    await services.sender.stop()
    await task
    log.info("bot stopped")


async def _scan_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data[SERVICES]
    if not services.sender.is_leader:
        return  # with several instances, the sending one scans (README: Production)
    try:
        report = await services.scan()
    except OSError as error:  # the issues folder is gone or unreadable: one line, no traceback
        log.error("scan failed: %s", error)
        return
    except Exception as error:  # a scan must never kill the schedule
        log_database_failure(log, "scan failed", error)
        return
    if report.changed or report.published:
        log.info("scan done %s", plain_scan_text(report).replace("\n", "; "))
    if report.writing:
        _scan_once_settled(context, services.settings)
    if told := await tell_editors(context.bot, services, report):
        log.info("editors told of the scan editors=%d", told)


_SETTLED_SCAN = "scan once settled"


def _scan_once_settled(context: ContextTypes.DEFAULT_TYPE, settings: Settings) -> None:
    """Scan again as soon as a file being written may have settled, not a whole
    SCAN_INTERVAL later."""
    jobs = context.job_queue
    assert jobs is not None
    if settings.settle_seconds < settings.scan_interval and not jobs.get_jobs_by_name(
        _SETTLED_SCAN
    ):
        jobs.run_once(_scan_job, when=settings.settle_seconds, name=_SETTLED_SCAN)


async def _publish_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data[SERVICES]
    if not services.sender.is_leader:
        return  # one instance publishes; the others' runs would queue nothing new anyway
    published = publish_pending(services)
    log.info("publish run issues=%s", ",".join(published) or "none")
    if told := await tell_editors(context.bot, services, ScanReport(published=published)):
        log.info("editors told of the publishing editors=%d", told)


def run_polling(application: Application) -> None:  # type: ignore[type-arg]
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)


def run_webhook(application: Application, webhook: WebhookSettings) -> None:  # type: ignore[type-arg]
    """Serve updates over HTTP; PTB's server answers 403 to a request without the secret."""
    log.info(
        "webhook server listen=%s port=%d path=/%s", webhook.listen, webhook.port, webhook.url_path
    )
    application.run_webhook(
        listen=webhook.listen,
        port=webhook.port,
        url_path=webhook.url_path,
        webhook_url=webhook.url,
        secret_token=webhook.secret,
        allowed_updates=Update.ALL_TYPES,
        drop_pending_updates=False,
        bootstrap_retries=WEBHOOK_BOOTSTRAP_RETRIES,
    )
