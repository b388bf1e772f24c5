-- Reserved: no schema change.
SELECT 1;
