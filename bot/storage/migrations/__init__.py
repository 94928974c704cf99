"""Alembic migrations; run them with bot.storage.migrate()."""
