# lib.sh -- summary helpers shared by run.sh and invites.sh (sourced).
# Results are lines "KEY ROUND VALUE" in $res.

# The median of KEY's values over the rounds ("" when none).
med() {
	awk -v k="$1" '$1 == k && $3 != "" { print $3 }' "$res" | sort -g |
	    awk '{ v[NR] = $1 } END {
		if (NR == 0) print "";
		else if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# Every round's value of KEY, comma-separated.
all() { awk -v k="$1" '$1 == k { printf "%s%s", s, $3; s = ", " }' "$res"; }
# A number with thousands separators (DECIMALS after the point), or "failed".
fmt() {
	[ -n "$1" ] || { echo "failed"; return; }
	awk -v v="$1" -v d="${2:-0}" 'BEGIN {
		s = sprintf("%." d "f", v); i = index(s, "."); if (i == 0) i = length(s) + 1
		ip = substr(s, 1, i - 1); fp = substr(s, i); o = ""
		while (length(ip) > 3) { o = "," substr(ip, length(ip) - 2) o; ip = substr(ip, 1, length(ip) - 3) }
		print ip o fp }'
}
# A / B with two decimals, or a dash.
ratio() {
	[ -n "$1" ] && [ -n "$2" ] || { echo "—"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "—"; else printf "%.2f\n", a / b }'
}
# verdict VALUE OP LIMIT: "yes", "**no**" or "failed".
verdict() {
	[ -n "$1" ] || { echo "failed"; return; }
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		ok = (op == ">=") ? v >= l : (op == "<") ? v < l : (op == "==") ? v == l : 0
		print ok ? "yes" : "**no**" }'
}
