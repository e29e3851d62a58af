#!/usr/bin/env bash
# The morning briefing: sync the API sources, then write the PDF briefing into a folder with
# the date in its name (e.g. briefings/briefing-2026-04-10.pdf). Meant for cron or a systemd
# timer; see docs/scheduling.md. Every setting is an environment variable:
#
#   BRIEFING_DIR        folder for the PDFs                  (default: data/briefings)
#   BRIEFING_TZ         the region's zone for "today"        (default: Asia/Makassar, WITA)
#   BRIEFING_FROM/_TO   the period, YYYY-MM-DD               (default: 1st of yesterday's month .. yesterday)
#   BRIEFING_KEEP_DAYS  delete briefings older than this     (default: 90; 0 keeps all)
#   BRIEFING_SYNC       0 to skip the sync (file imports only)  (default: 1)
#   PYTHON              the interpreter                      (default: .venv/bin/python)
#   COMPLAINTS_DB_URL   the database, as for every command   (default: settings, else data/complaints.db)
#
# Exit status: 0 when the briefing was written and the sync (if any) succeeded; 1 when the
# briefing was written from the data already stored because the sync failed (the cover then
# shows how old the data is); 2 when no briefing could be written.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
BRIEFING_DIR=${BRIEFING_DIR:-data/briefings}
BRIEFING_TZ=${BRIEFING_TZ:-Asia/Makassar}
BRIEFING_KEEP_DAYS=${BRIEFING_KEEP_DAYS:-90}
BRIEFING_SYNC=${BRIEFING_SYNC:-1}

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') morning_briefing: $*" >&2; }

today=$(TZ="$BRIEFING_TZ" date +%F)
yesterday=$(TZ="$BRIEFING_TZ" date -d "$today -1 day" +%F)
date_to=${BRIEFING_TO:-$yesterday}
date_from=${BRIEFING_FROM:-$(date -d "$date_to" +%Y-%m-01)}
output="$BRIEFING_DIR/briefing-$today.pdf"

mkdir -p "$BRIEFING_DIR" || { log "cannot create $BRIEFING_DIR"; exit 2; }

# One run at a time: a slow sync must not overlap with the next morning's start.
exec 9>"$BRIEFING_DIR/.morning_briefing.lock"
if ! flock -n 9; then
  log "another run is still busy; nothing done"
  exit 2
fi

status=0
if [ "$BRIEFING_SYNC" != "0" ]; then
  log "sync"
  if ! "$PYTHON" -m data_sources sync; then
    log "sync failed; the briefing is written from the data already stored"
    status=1
  fi
fi

log "briefing $date_from .. $date_to -> $output"
if ! "$PYTHON" -m metrics briefing --from "$date_from" --to "$date_to" --output "$output"; then
  log "briefing failed"
  exit 2
fi

if [ "$BRIEFING_KEEP_DAYS" -gt 0 ] 2>/dev/null; then
  find "$BRIEFING_DIR" -maxdepth 1 -name 'briefing-*.pdf' -mtime +"$BRIEFING_KEEP_DAYS" -delete
fi
log "done: $output"
exit "$status"
