"""The Docker image, tested without a Docker engine: its files are linted and parsed,
and the steps its stages run (wheel, base-only install, CMD, HEALTHCHECK) are replayed
on this machine over loopback."""
