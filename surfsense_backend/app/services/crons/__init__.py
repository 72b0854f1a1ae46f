"""Crons: runs a user schedules, fired once per due time by whichever process sees it first."""
