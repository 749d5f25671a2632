CREATE OR REPLACE TABLE raw.part AS
SELECT *
FROM landing.part;
