# Sourced by the bench scripts: wait for a scimgate server to be ready, then create an
# organization and an Okta directory through the vendor API.
#
#   bench_directory PORT API_KEY PYTHON OUT_JSON [TRIES=100] [PAUSE=0.1]
#
# Sets DIR (the directory id) and TOK (its bearer token); the directory's JSON is kept
# in OUT_JSON.
bench_directory() {
  local port=$1 key=$2 py=$3 json=$4 tries=${5:-100} pause=${6:-0.1} org
  for _ in $(seq 1 "$tries"); do curl -sf "127.0.0.1:$port/readyz" >/dev/null && break; sleep "$pause"; done
  org=$(curl -sf -H "Authorization: Bearer $key" -d '{"name":"Bench"}' "127.0.0.1:$port/organizations" | "$py" -c 'import json,sys;print(json.load(sys.stdin)["id"])')
  curl -sf -H "Authorization: Bearer $key" -d "{\"organization_id\":\"$org\",\"type\":\"okta scim v2.0\"}" "127.0.0.1:$port/directories" >"$json"
  DIR=$("$py" -c 'import json,sys;print(json.load(open(sys.argv[1]))["id"])' "$json")
  TOK=$("$py" -c 'import json,sys;print(json.load(open(sys.argv[1]))["bearer_token"])' "$json")
}
