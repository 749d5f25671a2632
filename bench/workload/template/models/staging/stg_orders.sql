CREATE OR REPLACE TABLE staging.stg_orders AS
SELECT
    o_orderkey                              AS order_key,
    o_custkey                               AS customer_key,
    o_orderstatus                           AS order_status,
    CAST(o_totalprice AS DECIMAL(15, 2))    AS order_total,
    o_orderdate                             AS order_date,
    date_trunc('month', o_orderdate)        AS order_month,
    CAST(split_part(o_orderpriority, '-', 1) AS INTEGER) AS priority_rank,
    trim(split_part(o_orderpriority, '-', 2)) AS priority_name,
    CAST(substr(o_clerk, 7) AS INTEGER)     AS clerk_id,
    o_shippriority                          AS ship_priority
FROM raw.orders
WHERE o_orderdate < DATE '1998-08-01';  -- the last weeks of the extract are incomplete
