//! A query-string extractor whose rejections use the API's error envelope and name the
//! parameter (axum's own answers a plain-text 400).

use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::extract::Query`, with the API's error envelope.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub T);

/// The parameter a rejection names: serde's backticks ("missing field `county`"), or the path
/// before the reason ("...query string: from: premature end of input").
fn parameter_in(message: &str) -> Option<String> {
    if let Some(start) = message.find('`').map(|i| i + 1)
        && let Some(len) = message[start..].find('`')
    {
        return Some(message[start..start + len].to_owned());
    }
    let rest = message.split_once("query string: ")?.1;
    let (name, _) = rest.split_once(": ")?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then(|| name.to_owned())
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => {
                let message = rejection.body_text();
                let mut error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "query_invalid", message.clone());
                error.field = parameter_in(&message);
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parameter_in;

    #[test]
    fn finds_the_parameter_named() {
        assert_eq!(parameter_in("Failed to deserialize query string: missing field `programme`").as_deref(), Some("programme"));
        let bad_date = "Failed to deserialize query string: from: premature end of input";
        assert_eq!(parameter_in(bad_date).as_deref(), Some("from"));
        assert_eq!(parameter_in("Failed to deserialize query string: invalid type"), None);
    }
}
