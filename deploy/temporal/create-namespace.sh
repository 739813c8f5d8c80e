#!/bin/sh
# One-shot (service temporal-create-namespace): once the server answers, register kosh's
# namespace and its custom search attributes (names and types: workflows/api.py
# SEARCH_ATTRIBUTES; tests/test_compose.py keeps the two in step). Safe to rerun: an existing
# namespace is left alone, and re-creating a search attribute with the same type is a no-op,
# while a type clash fails this service (and so holds back the workers) instead of failing
# cases at run time.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
: "${KOSH_NAMESPACE:?KOSH_NAMESPACE is required}"
RETENTION=${KOSH_NAMESPACE_RETENTION:-30d}
ATTEMPTS=${TEMPORAL_WAIT_ATTEMPTS:-60}

# wait_for DESCRIPTION COMMAND...: retry COMMAND every 5 s, at most $ATTEMPTS times.
wait_for() {
    what=$1
    shift
    attempt=1
    until "$@" >/dev/null 2>&1; do
        if [ "$attempt" -ge "$ATTEMPTS" ]; then
            echo "gave up waiting for $what after $ATTEMPTS attempts" >&2
            exit 1
        fi
        attempt=$((attempt + 1))
        sleep 5
    done
}

wait_for "Temporal at $TEMPORAL_ADDRESS" \
    temporal operator cluster health --address "$TEMPORAL_ADDRESS"

if temporal operator namespace describe --namespace "$KOSH_NAMESPACE" \
    --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
    echo "namespace $KOSH_NAMESPACE exists"
else
    temporal operator namespace create --namespace "$KOSH_NAMESPACE" \
        --retention "$RETENTION" --address "$TEMPORAL_ADDRESS"
fi

# A new namespace reaches the frontend's namespace cache a few seconds after it is created.
wait_for "namespace $KOSH_NAMESPACE" temporal operator search-attribute list \
    --namespace "$KOSH_NAMESPACE" --address "$TEMPORAL_ADDRESS"

search_attribute() {
    temporal operator search-attribute create --namespace "$KOSH_NAMESPACE" \
        --address "$TEMPORAL_ADDRESS" "$@"
}

# Never personal data in a search attribute: stage, track, region, policy, score, dates only.
search_attribute --name KoshStage --type Keyword
search_attribute --name KoshTrack --type Keyword
search_attribute --name KoshRegion --type Keyword
search_attribute --name KoshPolicyVersion --type Keyword
search_attribute --name KoshScore --type Int
search_attribute --name KoshContractEnd --type Datetime
search_attribute --name KoshCloseReason --type Keyword
search_attribute --name KoshNextDeadline --type Datetime
search_attribute --name KoshWaitingFor --type Keyword
search_attribute --name KoshWaitingSince --type Datetime
search_attribute --name KoshIndustry --type Keyword
search_attribute --name KoshProject --type Keyword
search_attribute --name KoshEmployer --type Keyword

echo "namespace $KOSH_NAMESPACE ready"
