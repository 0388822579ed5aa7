# Sourced by bench/run.sh (and tests/bench/test_peer_env.py): the environment django-helpdesk's
# processes run in. The peer is another Django project; none of our settings may reach it
# (our DJANGO_SETTINGS_MODULE made its setup import bench.settings and fail on a fresh machine).
# So it starts from an empty environment and gets only what a shell and PostgreSQL's tools
# need, plus the assignments given: `peer_env WORK=/tmp/x bash setup.sh`.
peer_env() {
  env -i PATH="${PATH:-/usr/local/bin:/usr/bin:/bin}" HOME="${HOME:-/root}" LANG="${LANG:-C.UTF-8}" \
    TMPDIR="${TMPDIR:-/tmp}" USER="${USER:-root}" PGPORT="${PEER_PGPORT:-55432}" ${TERM:+TERM="$TERM"} "$@"
}
