{#
  The lifecycle status of each invoice at each of this run's as-of dates t
  (SPEC section 17): its latest status with status_at on or before the end
  of t, on a tie the one landed later, then the higher code
  (int_einvoice_statuses' status_order). Each status holds from its day to
  the day of the next one: the run's dates join those periods rather than
  every status. A status superseded the same day holds at no as-of date.
  factored_since: the first day a factoring status (224-228) was given for
  the invoice on or before t; once factored, an invoice stays factored
  whatever the buyer's later statuses say (they concern its payment).
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

statuses as (

    select * from {{ ref('int_einvoice_statuses') }}
    where is_matched

),

periods as (

    select
        *,
        lead(status_on) over (partition by entity_code, document_id order by status_order) as next_status_on,
        min(case when effect = 'factored' then status_on end) over (
            partition by entity_code, document_id
        ) as first_factored_on,
    from statuses

),

at_dates as (

    select
        as_of_dates.as_of_date,
        periods.entity_code,
        periods.document_id,
        periods.status_code,
        periods.status_name,
        periods.effect,
        periods.status_at,
        periods.reason_code,
        periods.dispute_reason,
        periods.amount_type,
        periods.amount,
        periods.currency,
        periods.source_file,
        case when periods.first_factored_on <= as_of_dates.as_of_date then periods.first_factored_on end
            as factored_since,
    from periods
    inner join as_of_dates
        on as_of_dates.as_of_date >= periods.status_on
        and (periods.next_status_on is null or as_of_dates.as_of_date < periods.next_status_on)

)

select * from at_dates
