{# The as-of dates this run builds, from var as_of_from to var as_of_to. #}
with

as_of_days as (

    select cast(unnest(generate_series({{ as_of_bounds() }}, interval 1 day)) as date) as as_of_date

)

select * from as_of_days
