CREATE OR REPLACE TABLE intermediate.int_part_suppliers AS
SELECT
    p.part_key,
    p.brand,
    p.material,
    p.size_band,
    p.retail_price,
    s.s_suppkey                            AS supplier_key,
    trim(s.s_name)                         AS supplier_name,
    n.n_name                               AS supplier_nation,
    ps.ps_availqty                         AS available_quantity,
    ps.ps_supplycost                       AS supply_cost,
    p.retail_price - ps.ps_supplycost      AS unit_margin,
    ps.ps_availqty * ps.ps_supplycost      AS stock_value
FROM staging.stg_parts AS p
JOIN raw.partsupp AS ps
    ON ps.ps_partkey = p.part_key
JOIN raw.supplier AS s
    ON s.s_suppkey = ps.ps_suppkey
JOIN raw.nation AS n
    ON n.n_nationkey = s.s_nationkey
WHERE s.s_comment NOT LIKE '%Customer%Complaints%';
