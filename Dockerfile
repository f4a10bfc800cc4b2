# The intake service: `intake run` polls the mailbox on a schedule.
# Configuration: mount a settings file at /etc/intake/intake.toml (and the campaign file it names);
# passwords come from the environment or secrets files (INTAKE_MAILBOX__IMAP__PASSWORD_FILE=/run/secrets/imap).
# The officers' desk runs in the same process with INTAKE_DESK__ENABLED=true, INTAKE_DESK__HOST=0.0.0.0
# and INTAKE_DESK__SECRET_KEY_FILE=/run/secrets/desk (behind a TLS proxy: INTAKE_DESK__HTTPS_ONLY=true).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/intake intake

WORKDIR /opt/intake
# The same versions in every build: the lock (pip-compile, with hashes) first, then the project
# itself without resolving anything again.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md scheduler.py ./
COPY domain ./domain
COPY config ./config
COPY pipeline ./pipeline
COPY storage ./storage
COPY service ./service
COPY desk ./desk
COPY cli ./cli
RUN pip install --no-deps . && rm -rf /opt/intake/build

USER intake
WORKDIR /var/lib/intake
ENV INTAKE_CONFIG=/etc/intake/intake.toml
VOLUME ["/var/lib/intake"]
EXPOSE 8080

HEALTHCHECK --interval=5m --timeout=60s --start-period=30s --retries=3 CMD ["intake", "health"]
CMD ["intake", "run"]
