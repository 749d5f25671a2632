CREATE OR REPLACE TABLE raw.orders AS
SELECT *
FROM landing.orders;
