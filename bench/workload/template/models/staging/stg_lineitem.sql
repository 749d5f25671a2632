CREATE OR REPLACE TABLE staging.stg_lineitem AS
SELECT
    l_orderkey                                    AS order_key,
    l_linenumber                                  AS line_number,
    l_partkey                                     AS part_key,
    l_suppkey                                     AS supplier_key,
    CAST(l_quantity AS INTEGER)                   AS quantity,
    l_extendedprice                               AS gross_amount,
    l_discount                                    AS discount_rate,
    l_tax                                         AS tax_rate,
    round(l_extendedprice * (1 - l_discount), 2)  AS net_amount,
    round(l_extendedprice * (1 - l_discount) * (1 + l_tax), 2) AS invoiced_amount,
    l_returnflag = 'R'                            AS is_returned,
    l_linestatus                                  AS line_status,
    l_shipdate                                    AS ship_date,
    l_commitdate                                  AS commit_date,
    l_receiptdate                                 AS receipt_date,
    datediff('day', l_commitdate, l_receiptdate)  AS days_late,
    upper(trim(l_shipmode))                       AS ship_mode,
    l_shipinstruct                                AS ship_instructions
FROM raw.lineitem
WHERE l_quantity > 0;
