with

source_figures as (

    select * from {{ source('raw', 'reported_figures') }}

),

renamed as (

    select
        entity_code,
        figure,
        value as as_reported,
        as_of_date,
        published_at,
    from source_figures

)

select * from renamed
