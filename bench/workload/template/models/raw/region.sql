CREATE OR REPLACE TABLE raw.region AS
SELECT *
FROM landing.region;
