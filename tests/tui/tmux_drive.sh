#!/usr/bin/env bash
# Drive the installed `sealbook` TUI in a real terminal (tmux): create a vault,
# add two contacts, find one by part of its e-mail, edit it, erase it, lock,
# try a wrong passphrase, unlock, quit.  Exit status 0 = the flow worked.
#
#   tests/tui/tmux_drive.sh [path/to/sealbook]      (default: sealbook on PATH)
#
# Uses the real KDF (calibrated, ~1 s per derivation), a throw-away HOME and
# vault, and its own tmux server socket, so it touches nothing of yours.
set -euo pipefail

SEALBOOK=${1:-$(command -v sealbook)}
WORK=$(mktemp -d)
SOCKET="$WORK/tmux.sock"
SESSION=sealbook-drive
PASS='correct horse battery staple'
TIMEOUT=${TMUX_DRIVE_TIMEOUT:-60}

printf 'set -g default-size 150x45\nset -g status off\n' >"$WORK/tmux.conf"
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

# A pause after each burst, as a person would make: keys that arrive in the same
# read as a long burst of text can be taken as part of it.
keys() { for key in "$@"; do t send-keys -t "$SESSION" "$key"; sleep 0.15; done; }
type_text() { t send-keys -t "$SESSION" -l -- "$1"; sleep 0.3; }

mkdir -p "$WORK/home"
t new-session -d -s "$SESSION" -x 150 -y 45 \
    env -u COLUMNS -u LINES HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_DATA_HOME="$WORK/home/.data" \
    SEALBOOK_CONFIG="$WORK/config.toml" TERM=xterm-256color \
    "$SEALBOOK" --vault "$WORK/vault.sqlite"

# 1. first run: create the vault
wait_for "Create a new vault"
wait_for "cannot be recovered"
type_text "$PASS"; keys Enter
type_text "$PASS"; keys Enter
wait_for "UNLOCKED"
test -f "$WORK/vault.sqlite"

# 2. add two contacts through the form (tab order: name, org, e-mails, phones,
#    basis, rule, trigger date)
add_contact() {  # name org email phone date
    keys n
    wait_for "New contact"
    type_text "$1"; keys Tab
    type_text "$2"; keys Tab
    type_text "$3"; keys Tab
    type_text "$4"; keys Tab Tab Tab
    type_text "$5"
    keys C-s
    wait_for "Contact saved"
}
add_contact "Jürgen Müller" "Müller & Söhne GmbH" "juergen.mueller@example.org" "030 1234567" "2025-03-10"
add_contact "Anna Schmidt" "Schmidt Design" "anna@schmidt.example" "0171 2345678" "2024-11-02"
wait_for "2 of 2 shown"

# 3. find one by typing part of the e-mail; the phone is shown in international format
keys /
type_text "mueller@exa"
wait_for "1 of 2 shown"
wait_for "+49 30 1234567"
keys Enter

# 4. edit it: replace the organisation
keys e
wait_for "Edit contact"
keys Tab C-u
type_text "Müller & Töchter GmbH"
keys C-s
wait_for "Contact updated"
wait_for "Töchter"

# 5. erase it: a retention duty applies, so it is restricted and hidden
keys d
wait_for "cannot be deleted yet"
keys y
wait_for "Contact restricted"
wait_for "0 of 1 shown"
wait_for "1 restricted hidden"

# 6. lock, a wrong passphrase, then the right one
keys C-l
wait_for "LOCKED"
if screen | grep -qF "Anna Schmidt"; then echo "FAIL: contact data visible while locked" >&2; exit 1; fi
type_text "not the passphrase"; keys Enter
wait_for "The passphrase is wrong"
type_text "$PASS"; keys Enter
wait_for "UNLOCKED"
keys Escape  # leave the search box if it kept focus
keys /
keys C-u
wait_for "1 of 1 shown"
wait_for "Anna Schmidt"

# 7. quit
keys C-q
for _ in $(seq 50); do
    t has-session -t "$SESSION" 2>/dev/null || { echo "ok: quit"; echo "PASS"; exit 0; }
    sleep 0.2
done
echo "FAIL: the app did not quit" >&2
exit 1
