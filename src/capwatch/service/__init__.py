"""The poll pipeline (coordinator) and the daemon that schedules it."""
