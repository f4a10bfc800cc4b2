# The intake service: `intake run` polls the mailbox on a schedule.
# Configuration: mount a settings file at /etc/intake/intake.toml (and the campaign file it names);
# passwords come from the environment or secrets files (INTAKE_MAILBOX__IMAP__PASSWORD_FILE=/run/secrets/imap).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/intake intake

WORKDIR /opt/intake
COPY pyproject.toml README.md cli.py scheduler.py ./
COPY pipeline ./pipeline
COPY config ./config
COPY storage ./storage
RUN pip install . && rm -rf /opt/intake/build

USER intake
WORKDIR /var/lib/intake
ENV INTAKE_CONFIG=/etc/intake/intake.toml
VOLUME ["/var/lib/intake"]

HEALTHCHECK --interval=5m --timeout=60s --start-period=30s --retries=3 CMD ["intake", "health"]
CMD ["intake", "run"]
