//! A JSON body extractor whose rejections use the API's error envelope and name the field.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Json`, with the API's error envelope.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

/// serde names the field in backticks ("missing field `name`", "unknown field `nmae`").
fn field_in(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                let (status, code) = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "content_type_not_json"),
                    JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "body_not_json"),
                    JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "body_invalid"),
                    _ => (StatusCode::BAD_REQUEST, "body_unreadable"),
                };
                let message = rejection.body_text();
                let mut error = ApiError::new(status, code, message.clone());
                error.field = field_in(&message);
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::field_in;

    #[test]
    fn finds_the_field_serde_names() {
        assert_eq!(field_in("missing field `name` at line 1 column 2").as_deref(), Some("name"));
        assert_eq!(field_in("expected a string"), None);
    }
}
