-- Reserved: another change takes this number. Delete this file when that change is merged.
SELECT 1;
