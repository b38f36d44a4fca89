#!/usr/bin/env bash
# Drive the installed `sealbook` TUI in a real terminal (tmux): create a vault,
# add two contacts, find one by part of its e-mail, edit it, erase it, lock,
# try a wrong passphrase, unlock; import a vdir folder (two new contacts whose
# retention has already ended, one merged into an existing contact), run the
# purge, open a data-subject request, set up sync to a local folder and push;
# quit.  Exit status 0 = the flow worked.
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

not_shown() {  # not_shown TEXT: the pane must not show TEXT
    if screen | grep -qF -- "$1"; then
        echo "FAIL: still shown: $1" >&2
        screen >&2
        exit 1
    fi
}

# 7. import a vdir folder (one vCard per <uid>.vcf, as khard and vdirsyncer keep it).
#    Under "inquiry, 6 months after the last contact" from 2024-01-15 the two new
#    people are past their retention at once; Anna's card matches her by e-mail and
#    merges (her own rule keeps her).  A dot file is skipped; a broken .vcf is named
#    in the preview, then removed for a clean second preview.
vcard() {  # vcard FILE UID NAME SURNAME;GIVEN EMAIL PHONE
    printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:%s\r\nFN:%s\r\nN:%s;;;\r\nEMAIL:%s\r\nTEL:%s\r\nEND:VCARD\r\n' \
        "$2" "$3" "$4" "$5" "$6" >"$1"
}
mkdir -p "$WORK/vdir"
vcard "$WORK/vdir/6f1c2a4e-koehler.vcf" 6f1c2a4e-koehler "Brigitte Köhler" "Köhler;Brigitte" \
    "brigitte@koehler.example" "+49 89 5551234"
vcard "$WORK/vdir/9b7d3e10-weiss.vcf" 9b7d3e10-weiss "Carl Weiß" "Weiß;Carl" "carl.weiss@example.net" "+49 40 5559876"
vcard "$WORK/vdir/c0ffee00-schmidt.vcf" c0ffee00-schmidt "Anna Schmidt" "Schmidt;Anna" "anna@schmidt.example" \
    "+49 171 2345678"
vcard "$WORK/vdir/.hidden.vcf" hidden-1 "Hidden Person" "Person;Hidden" "hidden@example.org" "+49 30 5550000"
printf 'this is not a vCard\n' >"$WORK/vdir/broken.vcf"

keys Enter  # the search box has the focus: back to the list, so the letters are keys
keys i
wait_for "Import contacts from a vCard or CSV file"
type_text "$WORK/vdir"; keys Tab
keys Enter  # the legal basis: open the list, type to find, pick
wait_for "Vital interests (Art. 6(1)(d) GDPR)"
type_text "legitimate"; keys Enter
keys Tab
keys Enter  # the retention rule
wait_for "Books and annual accounts"
type_text "inquiry"; keys Enter
keys Tab
type_text "2024-01-15"; keys Enter  # Enter in a field previews
wait_for "broken.vcf"
wait_for "not a vCard"
wait_for "so the folder as a whole will not be"
wait_for "ctrl+r imports the rest (2 to add, 1 to merge"
rm "$WORK/vdir/broken.vcf"
keys Enter  # preview again, without the broken file
wait_for "Preview: 2 to add, 1 to merge (1 with the rule added), 0 already there"
not_shown "broken.vcf"
keys C-s
wait_for "Imported: 2 added, 1 merged (1 with the rule added), 0 skipped."
keys Escape
wait_for "3 of 3 shown"
wait_for "Brigitte Köhler"
wait_for "Carl Weiß"
not_shown "Hidden Person"

# 8. the purge: the preview lists both, r asks naming them, y purges
keys p
wait_for "Purge: records whose retention ends within 30 days"
wait_for "2 record(s) due within 30 days"
wait_for "2024-07-15"
wait_for "Brigitte Köhler"
wait_for "Carl Weiß"
keys r
wait_for "Purge 2 records now?"
wait_for "2 records will be deleted for good"
wait_for "This cannot be undone."
keys y
wait_for "Purged 2 records whose retention ended before"
wait_for "Purge done: 2 records deleted."
wait_for "  purged  "  # the deletion log, record ids only
keys Escape
wait_for "1 of 1 shown"
wait_for "Anna Schmidt"
not_shown "Brigitte Köhler"
not_shown "Carl Weiß"

# 9. a data-subject request about the selected contact: access (Art. 15), received
#    40 days ago, so it is already past its one-month deadline
RECEIVED=$(date -d '40 days ago' +%F)
keys q
wait_for "Data-subject requests (Art. 12(3): answer within one month)"
wait_for "No open requests."
keys o
wait_for "Open a data-subject request"
wait_for "Concerns Anna Schmidt (selected in the list)"
keys Tab Tab C-u  # past the type (access) and the ticked box, to the day it came in
type_text "$RECEIVED"; keys Tab
type_text "letter by post"; keys Enter
wait_for "Opened the access request about Anna Schmidt (Art. 15 GDPR); answer by"
wait_for "access  $RECEIVED"
wait_for "OVERDUE by"
keys Escape
wait_for "1 request OVERDUE (q)"

# 10. sync to a local folder: set it up (checked at once), push, the blob is there
mkdir -p "$WORK/sync"
keys y
wait_for "Encrypted copy on webspace"
wait_for "Sync is not set up."
keys s
wait_for "Set up the encrypted copy"
type_text "$WORK/sync"; keys Enter
wait_for "Sync set up: $WORK/sync. u pushes the first copy."
wait_for "Target: $WORK/sync"
keys u
wait_for "pushed: counter 1"
wait_for "Changes not pushed yet: 0"
ls -l "$WORK/sync"
test -s "$WORK/sync/sealbook.blob" || { echo "FAIL: no blob in $WORK/sync" >&2; exit 1; }
echo "ok: blob $(stat -c %s "$WORK/sync/sealbook.blob") bytes in the sync folder (${SECONDS}s)"
if grep -qaF "Anna Schmidt" "$WORK/sync/sealbook.blob"; then echo "FAIL: plaintext in the blob" >&2; exit 1; fi
keys Escape
wait_for "1 of 1 shown"

# 11. quit
keys C-q
for _ in $(seq 50); do
    t has-session -t "$SESSION" 2>/dev/null || { echo "ok: quit"; echo "PASS"; exit 0; }
    sleep 0.2
done
echo "FAIL: the app did not quit" >&2
exit 1
