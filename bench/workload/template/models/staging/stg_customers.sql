CREATE OR REPLACE TABLE staging.stg_customers AS
SELECT
    c_custkey                          AS customer_key,
    trim(c_name)                       AS customer_name,
    c_nationkey                        AS nation_key,
    regexp_replace(c_phone, '[^0-9]', '', 'g') AS phone_digits,
    CAST(c_acctbal AS DECIMAL(12, 2))  AS account_balance,
    c_acctbal < 0                      AS is_in_debt,
    lower(c_mktsegment)                AS market_segment
FROM raw.customer;
