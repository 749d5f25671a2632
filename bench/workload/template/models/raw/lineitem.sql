CREATE OR REPLACE TABLE raw.lineitem AS
SELECT *
FROM landing.lineitem;
