{{ config(materialized='view') }}  {# read once, by fct_open_items: a table would be written and read back for nothing #}
{#
  French rules on open items (SPEC section 9), all parameters from seeds:
  claimable late-payment interest and the fixed recovery indemnity on late
  B2B invoices (shown, never booked; both stop at the opening of an
  insolvency proceeding), limitation date and flags, legal-terms breach.
#}
with

open_items as (

    select * from {{ ref('int_open_items_aged') }}

),

debtor_risk as (

    select * from {{ ref('int_debtor_risk_at_dates') }}
    where is_as_of_date

),

late_payment_rates as (

    select * from {{ ref('late_payment_rates') }}

),

penalty_rates as (

    select
        period_start,
        period_end,
        greatest(
            ecb_main_refinancing_rate + {{ legal_parameter('penalty_margin_points') }},
            legal_interest_rate_professionals * {{ legal_parameter('legal_rate_floor_multiplier') }}
        ) as penalty_rate_pct,
    from late_payment_rates

),

open_items_flagged as (

    select
        open_items.*,
        debtor_risk.insolvency_date,
        open_items.document_type = 'invoice'
        and open_items.open_amount > 0
        and open_items.is_overdue
        and open_items.customer_type = 'B2B'
        and not open_items.is_intercompany
        and (debtor_risk.insolvency_date is null or open_items.due_date < debtor_risk.insolvency_date)
            as is_claimable_late,
        least(open_items.as_of_date, coalesce(debtor_risk.insolvency_date, open_items.as_of_date))
            as interest_until,
        case
            when open_items.document_type = 'invoice' then cast(
                    open_items.due_date + to_years(cast(
                        case open_items.customer_type
                            when 'B2C' then {{ legal_parameter('limitation_years_b2c') }}
                            else {{ legal_parameter('limitation_years_b2b') }}
                        end as integer
                    )) as date
                )
        end as limitation_date,
    from open_items
    left join debtor_risk
        on debtor_risk.as_of_date = open_items.as_of_date
        and debtor_risk.consolidated_debtor_id = open_items.consolidated_debtor_id

),

interest_by_period as (

    select
        open_items_flagged.as_of_date,
        open_items_flagged.entity_code,
        open_items_flagged.document_id,
        sum(
            open_items_flagged.open_amount_eur * penalty_rates.penalty_rate_pct / 100
            * (
                date_diff(
                    'day',
                    greatest(open_items_flagged.due_date + 1, penalty_rates.period_start),
                    least(open_items_flagged.interest_until, penalty_rates.period_end)
                ) + 1
            )
        ) / {{ legal_parameter('interest_day_count') }} as late_interest,
        arg_max(penalty_rates.penalty_rate_pct, penalty_rates.period_start) as late_interest_rate,
    from open_items_flagged
    inner join penalty_rates
        on penalty_rates.period_end > open_items_flagged.due_date
        and penalty_rates.period_start <= open_items_flagged.interest_until
    where open_items_flagged.is_claimable_late
    group by all

),

open_items_with_claims as (

    select
        open_items_flagged.*,
        interest_by_period.late_interest_rate,
        cast(round(coalesce(interest_by_period.late_interest, 0), 2) as decimal(18, 2)) as late_interest_eur,
        cast(
            case when open_items_flagged.is_claimable_late then {{ legal_parameter('recovery_indemnity_eur') }} else 0 end
            as decimal(18, 2)
        ) as recovery_indemnity_eur,
        open_items_flagged.document_type = 'invoice'
        and open_items_flagged.due_date > greatest(
            open_items_flagged.issue_date + cast({{ legal_parameter('legal_max_terms_days') }} as integer),
            last_day(open_items_flagged.issue_date + cast({{ legal_parameter('legal_max_terms_eom_days') }} as integer))
        ) as is_over_legal_terms,
        coalesce(
            open_items_flagged.limitation_date > open_items_flagged.as_of_date
            and date_diff('day', open_items_flagged.as_of_date, open_items_flagged.limitation_date)
            <= {{ var('limitation_warning_days') }},
            false
        ) as is_near_limitation,
        coalesce(open_items_flagged.limitation_date <= open_items_flagged.as_of_date, false) as is_time_barred,
    from open_items_flagged
    left join interest_by_period
        on interest_by_period.as_of_date = open_items_flagged.as_of_date
        and interest_by_period.entity_code = open_items_flagged.entity_code
        and interest_by_period.document_id = open_items_flagged.document_id

)

select * from open_items_with_claims
