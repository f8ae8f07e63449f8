{# The as-of dates this run builds, RECEIVABLES_AS_OF_FROM to RECEIVABLES_AS_OF_TO (macros/parameters.sql). #}
with

as_of_days as (

    select cast(unnest(generate_series({{ as_of_date('from') }}, {{ as_of_date('to') }}, interval 1 day)) as date) as as_of_date

)

select * from as_of_days
