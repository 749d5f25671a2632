CREATE OR REPLACE TABLE raw.partsupp AS
SELECT *
FROM landing.partsupp;
