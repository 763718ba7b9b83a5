# Upper-cases every event; echoes the end marker after each atom.
# spsc-op --warm -- awk -f upper.awk
$0 == ENVIRON["SPSC_MARKER"] { print; fflush(); next }
{ print toupper($0) }
