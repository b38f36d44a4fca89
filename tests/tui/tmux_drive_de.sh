#!/usr/bin/env bash
# Drive the installed `sealbook` TUI in German (LANG=de_DE.UTF-8) in a real terminal (tmux):
# create a vault, add a contact with a German date, find it, erase it (restricted under its
# retention duty), set up sync to a local folder and push, lock, quit; German on every
# screen, the English words nowhere.
#
#   tests/tui/tmux_drive_de.sh [path/to/sealbook]      (default: sealbook on PATH)
#
# Like tmux_drive.sh: the real KDF, a throw-away HOME and vault, its own tmux socket.
set -euo pipefail

SEALBOOK=${1:-$(command -v sealbook)}
WORK=$(mktemp -d)
SOCKET="$WORK/tmux.sock"
SESSION=sealbook-drive-de
PASS='richtig Pferd Batterie Heftklammer'
TIMEOUT=${TMUX_DRIVE_TIMEOUT:-60}

printf 'set -g default-size 100x30\nset -g status off\n' >"$WORK/tmux.conf"
t() { tmux -S "$SOCKET" -f "$WORK/tmux.conf" "$@"; }
cleanup() { t kill-server 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

screen() { t capture-pane -p -t "$SESSION" 2>/dev/null || true; }

wait_for() {  # wait_for TEXT: until the pane shows TEXT, else dump the pane and fail
    local deadline=$((SECONDS + TIMEOUT))
    until screen | grep -qF -- "$1"; do
        if ((SECONDS > deadline)); then
            echo "FAIL: timed out waiting for: $1" >&2
            screen >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "ok: $1 (${SECONDS}s)"
}

no_english() {  # the English words of this screen must not be on it
    local word
    for word in "$@"; do
        if screen | grep -qwF -- "$word"; then
            echo "FAIL: English on the German screen: $word" >&2
            screen >&2
            exit 1
        fi
    done
}

keys() { for key in "$@"; do t send-keys -t "$SESSION" "$key"; sleep 0.15; done; }
type_text() { t send-keys -t "$SESSION" -l -- "$1"; sleep 0.3; }

mkdir -p "$WORK/home"
t new-session -d -s "$SESSION" -x 100 -y 30 \
    env -u COLUMNS -u LINES -u LC_ALL -u LC_MESSAGES LANG=de_DE.UTF-8 HOME="$WORK/home" \
    XDG_CONFIG_HOME="$WORK/home/.config" XDG_DATA_HOME="$WORK/home/.data" \
    SEALBOOK_CONFIG="$WORK/config.toml" TERM=xterm-256color \
    "$SEALBOOK" --vault "$WORK/vault.sqlite"

# 1. first run: create the vault
wait_for "Neuen Tresor anlegen"
wait_for "Kontakte verloren"
no_english "Create" "Passphrase must" "Quit"
type_text "$PASS"; keys Enter
type_text "$PASS"; keys Enter
wait_for "ENTSPERRT"
wait_for "Sperren"
no_english "UNLOCKED" "Lock" "Search" "Help"

# 2. add a contact; the date typed as Germans write it
keys n
wait_for "Neuer Kontakt"
wait_for "Rechtsgrundlage"
no_english "New contact" "Legal basis" "Save"
type_text "Jürgen Müller"; keys Tab
type_text "Müller & Söhne GmbH"; keys Tab
type_text "juergen.mueller@example.org"; keys Tab
type_text "030 1234567"; keys Tab Tab Tab
type_text "10.03.2025"
keys C-s
wait_for "Kontakt gespeichert"
wait_for "1 von 1 angezeigt"
wait_for "10.03.2025"

# 3. search, then erase: a retention duty applies, so it is restricted
keys /
type_text "mueller@exa"
wait_for "+49 30 1234567"
keys Enter
keys d
wait_for "Kontakt löschen"
wait_for "kann noch nicht gelöscht werden"
no_english "Erase contact" "Cancel"
keys y
wait_for "Verarbeitung des Kontakts eingeschränkt"
wait_for "1 eingeschränkt, ausgeblendet"

# 4. the sync screen: set up a local folder, push; the blob is there
mkdir -p "$WORK/sync"
keys y
wait_for "Verschlüsselte Kopie auf Webspace"
wait_for "Die Synchronisierung ist nicht eingerichtet."
no_english "Set up" "Push" "Pull" "Close"
keys s
wait_for "Verschlüsselte Kopie einrichten"
wait_for "Prüfen und speichern (enter)"
no_english "Where" "Cancel" "Check and save"
type_text "$WORK/sync"; keys Enter
wait_for "Synchronisierung eingerichtet: $WORK/sync."
wait_for "Ziel: $WORK/sync"
keys u
wait_for "hochgeladen: Zähler 1, 0 hinzugefügt"
no_english "pushed"
wait_for "Noch nicht hochgeladene Änderungen: 0"
test -s "$WORK/sync/sealbook.blob" || { echo "FAIL: no blob in $WORK/sync" >&2; exit 1; }
echo "ok: blob in the sync folder (${SECONDS}s)"
keys Escape
wait_for "1 eingeschränkt, ausgeblendet"

# 5. lock, then quit
keys C-l
wait_for "GESPERRT"
no_english "LOCKED" "Unlock"
keys C-q
for _ in $(seq 50); do
    t has-session -t "$SESSION" 2>/dev/null || { echo "ok: quit"; echo "PASS"; exit 0; }
    sleep 0.2
done
echo "FAIL: the app did not quit" >&2
exit 1
