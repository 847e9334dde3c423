#!/bin/sh
# Run every report and mail the results; called by cron at 05:30.
set -eu
for report in /opt/legacy-reports/reports/*.sql; do
  name=$(basename "$report" .sql)
  psql -X --csv -f "$report" reporting > "/tmp/$name.csv"
  mail -s "Report: $name" -a "/tmp/$name.csv" reports@acme-retail.example < /dev/null
done
